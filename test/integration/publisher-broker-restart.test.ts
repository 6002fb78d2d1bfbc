import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import type { Position } from '../../src/domain/position.js';
import { createKafka } from '../../src/kafka/client.js';
import { createLogger, silentLogger } from '../../src/logger.js';
import { restartKafkaNode, servicesDown, servicesUp, type ServicesState } from '../../src/local/services.js';
import { isAlive } from '../../src/local/processes.js';
import { PositionPublisher } from '../../src/ingest/publisher.js';
import { createTestTopics, testConfig } from '../support/env.js';
import { readTopic } from '../support/read-topic.js';

/** Reuse jars some `services up` already resolved, so the own broker starts without Maven. */
function cachedKafkaHome(): string | undefined {
  for (const root of ['.cache/fleet-test/cache', '.cache/fleet/cache']) {
    const dir = path.resolve(root);
    if (!existsSync(dir)) continue;
    const kafka = readdirSync(dir).find(
      (d) => d.startsWith('kafka-') && existsSync(path.join(dir, d, 'libs')),
    );
    if (kafka) return path.join(dir, kafka);
  }
  return undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('publisher across a broker kill -9 and restart (own single-node broker)', () => {
  const home = mkdtempSync(path.join(tmpdir(), 'fleet-restart-'));
  const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'warn', destination: 2 });
  let state: ServicesState;

  beforeAll(async () => {
    const kafkaHome = cachedKafkaHome();
    state = await servicesUp({
      home,
      logger,
      redis: false,
      kafkaPort: 0,
      env: { ...process.env, ...(kafkaHome ? { KAFKA_HOME: kafkaHome } : {}) },
    });
  });
  afterAll(async () => {
    await servicesDown(home, logger);
    rmSync(home, { recursive: true, force: true });
  });

  it.each(['kafkajs', 'platformatic'] as const)(
    'loses no acknowledged position and writes none twice (%s client)',
    async (client) => {
      const config = testConfig({ KAFKA_BROKERS: state.kafka!.brokers[0]! });
      await createTestTopics(config);
      const connection =
        client === 'kafkajs'
          ? {
              kafka: createKafka(config.kafka, {
                logger: silentLogger,
                role: 'restart-test',
                connectionTimeout: 1000,
                retry: { initialRetryTime: 100, retries: 5, maxRetryTime: 1000 },
              }),
            }
          : { kafkaConfig: config.kafka };
      const publisher = new PositionPublisher({
        ...connection,
        topic: config.topic.name,
        registry: new Registry(),
        logger: silentLogger,
        retry: { initialMs: 100, maxMs: 1000 },
        deliveryTimeoutMs: 90_000,
      });
      await publisher.connect();

      const vehicles = 20;
      const seq = new Array<number>(vehicles).fill(0);
      const acked = new Set<string>();
      const failed = new Set<string>();
      const calls: Promise<void>[] = [];
      let sending = true;
      const t0 = Date.now();
      const sender = (async () => {
        while (sending) {
          const batch: Position[] = [];
          for (let v = 0; v < vehicles; v++) {
            const n = ++seq[v]!;
            batch.push({
              vehicleId: `veh-${v}`,
              ts: t0 + n,
              lat: 10 + n * 1e-5,
              lon: 20,
              attributes: { seq: n },
            });
          }
          const keys = batch.map((p) => `${p.vehicleId}#${p.attributes!.seq}`);
          calls.push(
            publisher.publish(batch).then(
              () => keys.forEach((k) => acked.add(k)),
              () => keys.forEach((k) => failed.add(k)),
            ),
          );
          await sleep(10);
        }
      })();

      await sleep(1500);
      const ackedBeforeKill = acked.size;
      const node = state.kafka!.nodes[0]!;
      process.kill(node.pid, 'SIGKILL');
      while (isAlive(node.pid)) await sleep(20);
      await sleep(1000);
      // The next case kills the restarted process.
      node.pid = await restartKafkaNode(home, node.nodeId);
      const restartedAt = Date.now();
      // Keep sending until positions published after the restart are acknowledged, then a bit more.
      const ackedAtRestart = acked.size;
      while (acked.size < ackedAtRestart + 200 && Date.now() - restartedAt < 90_000) await sleep(100);
      await sleep(1000);
      sending = false;
      await sender;
      await Promise.all(calls);
      await publisher.close();

      const stats = publisher.stats();
      expect(ackedBeforeKill).toBeGreaterThan(0);
      expect(acked.size).toBeGreaterThan(ackedAtRestart);
      expect(stats.retried).toBeGreaterThan(0);

      const records = await readTopic(config, { timeoutMs: 60_000 });
      const seen = new Map<string, number>();
      const lastSeq = new Map<string, number>();
      let outOfOrder = 0;
      for (const r of records) {
        const p = JSON.parse(r.value!) as Position;
        const s = p.attributes!.seq as number;
        const key = `${p.vehicleId}#${s}`;
        seen.set(key, (seen.get(key) ?? 0) + 1);
        if (s <= (lastSeq.get(p.vehicleId) ?? 0)) outOfOrder++;
        lastSeq.set(p.vehicleId, s);
      }
      const missing = [...acked].filter((k) => !seen.has(k));
      const duplicates = [...seen.values()].filter((n) => n > 1).length;
      console.info(
        `broker restart: published ${seq.reduce((a, b) => a + b, 0)}, acked ${acked.size}, failed ${failed.size}, ` +
          `in topic ${records.length}, missing ${missing.length}, duplicates ${duplicates}, out of order ${outOfOrder}, ` +
          `retried ${stats.retried}, requests ${stats.requests}`,
      );
      expect(missing).toEqual([]);
      expect(duplicates).toBe(0);
      expect(outOfOrder).toBe(0);
    },
  );
});
