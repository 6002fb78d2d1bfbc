import { rmSync } from 'node:fs';
import path from 'node:path';
import { startSchemaRegistry, stopSchemaRegistry } from '../../src/local/schema-registry.js';
import { createLogger } from '../../src/logger.js';

export interface TestSchemaRegistry {
  url: string;
  /** Milliseconds from launch to a ready Confluent-compatible API (0 when SCHEMA_REGISTRY_URL was given). */
  startMs: number;
  stop(): Promise<void>;
}

/**
 * A real schema registry for the test files that need one (the others never pay for its JVM):
 * SCHEMA_REGISTRY_URL when set, otherwise a fresh Apicurio Registry with in-memory storage on a
 * free port, stopped by `stop()`. The app is cached beside the test Kafka jars.
 */
export async function startTestSchemaRegistry(): Promise<TestSchemaRegistry> {
  const given = process.env.SCHEMA_REGISTRY_URL;
  if (given) return { url: given, startMs: 0, stop: async () => undefined };
  const home = path.resolve('.cache/fleet-test');
  const dataDir = path.join(home, `schema-registry-${process.pid}`);
  const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'warn', destination: 2 });
  const started = Date.now();
  const registry = await startSchemaRegistry(home, logger, { dataDir });
  const startMs = Date.now() - started;
  return {
    url: registry.url,
    startMs,
    stop: async () => {
      await stopSchemaRegistry(registry);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
