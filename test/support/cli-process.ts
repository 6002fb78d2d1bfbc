import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Config } from '../../src/config/index.js';

const root = path.resolve(import.meta.dirname, '../..');

export interface CliChild {
  child: ChildProcess;
  /** Everything the child wrote so far (stdout + stderr), for failure messages. */
  output(): string;
  /** Resolves with the exit code (or the signal name). */
  exited: Promise<number | string>;
}

/** Environment pointing the real CLI at a test config's topic, group, prefix and warehouse. */
export function cliEnv(config: Readonly<Config>, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    KAFKA_BROKERS: config.kafka.brokers.join(','),
    REDIS_URL: config.redis.url,
    TOPIC: config.topic.name,
    CONSUMER_GROUP: config.consumer.groupId,
    REDIS_PREFIX: config.redis.prefix,
    WAREHOUSE: config.warehouse.kind,
    DUCKDB_PATH: config.warehouse.duckdbPath,
    WAREHOUSE_TABLE: config.warehouse.table,
    METRICS_PORT: '0',
    LOG_LEVEL: 'warn',
    ...extra,
  };
}

/** Runs `node bin/fleet.js <args>` as a child process. */
export function runCli(args: string[], env: NodeJS.ProcessEnv): CliChild {
  const child = spawn(process.execPath, ['bin/fleet.js', ...args], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  return { child, output: () => output, exited };
}
