import path from 'node:path';
import type { Config } from '../src/config/index.js';
import { errorMessage, ServiceError } from '../src/errors.js';
import { spawnFleet, waitWhileRunning, type FleetChild } from './fleet-child.js';
import { committedTotal, endOffsetTotal } from './offsets.js';
import { CpuMeter } from './proc.js';
import { benchConfig, type BenchServices } from './services.js';
import { countStored } from './stored.js';
import { perSecond } from './stats.js';

/** One replay of the pre-loaded topic by `processors` `fleet process` children in one group. */
export interface ScaleOutRun {
  processors: number;
  /** Records committed from the moment every child was in the group (timed and costed). */
  records: number;
  /** Records the first members committed before the last one joined (not timed, not costed). */
  beforeAllJoined: number;
  elapsedMs: number;
  recordsPerS: number;
  /** CPU seconds of each child over the timed part, and their sum. */
  cpuSecondsPerProcess: number[];
  cpuSeconds: number;
  /** Processors' CPU (summed) per timed record, µs. */
  cpuUsPerRecord: number;
  /** Broker and Redis CPU per timed record, µs (the single local KRaft node and redis-server). */
  kafkaCpuUsPerRecord: number | null;
  redisCpuUsPerRecord: number | null;
  verified: { redisVehicles: number; warehouseRows: number; ok: boolean };
  exitCodes: (number | null)[];
}

export interface ScaleOutResult {
  runs: ScaleOutRun[];
  /** Count → why its replay failed (the other counts still run). */
  errors: Record<string, string>;
  /** Processor CPU per record of the largest count ÷ that of the smallest (≤ ~1: no growth). */
  cpuPerRecordGrowth: number | null;
}

/**
 * Replays the same pre-loaded topic once per count in `counts`, each time with that many `fleet
 * process` children sharing one new consumer group (own Redis prefix; one DuckDB file per child,
 * as DuckDB takes one writer per file). Timed and costed from the moment the group is Stable with
 * every child until it has committed the whole topic; CPU is each child's /proc time, summed.
 */
export async function scaleOutReplay(
  services: BenchServices,
  config: Readonly<Config>,
  options: { counts: readonly number[]; vehicles: number; timeoutMs?: number },
): Promise<ScaleOutResult> {
  const runs: ScaleOutRun[] = [];
  const errors: Record<string, string> = {};
  for (const n of options.counts) {
    services.logger.info({ processors: n }, 'scale-out replay');
    try {
      runs.push(await replayWith(services, config, n, options.vehicles, options.timeoutMs ?? 30 * 60_000));
    } catch (err) {
      errors[String(n)] = errorMessage(err);
      services.logger.error({ processors: n, err: errors[String(n)] }, 'scale-out replay failed');
    }
  }
  if (runs.length === 0) throw new ServiceError(`every scale-out replay failed: ${JSON.stringify(errors)}`);
  const first = runs[0];
  const last = runs.at(-1);
  return {
    runs,
    errors,
    cpuPerRecordGrowth:
      first && last && first.cpuUsPerRecord > 0
        ? Math.round((last.cpuUsPerRecord / first.cpuUsPerRecord) * 100) / 100
        : null,
  };
}

async function replayWith(
  services: BenchServices,
  config: Readonly<Config>,
  n: number,
  vehicles: number,
  timeoutMs: number,
): Promise<ScaleOutRun> {
  const { admin } = services;
  const topic = config.topic.name;
  const total = await endOffsetTotal(admin, topic);
  const group = `${config.consumer.groupId}-x${n}`;
  const configs = Array.from({ length: n }, (_, i) =>
    benchConfig(services, {
      TOPIC: topic,
      TOPIC_PARTITIONS: String(config.topic.partitions),
      CONSUMER_GROUP: group,
      REDIS_PREFIX: `${config.redis.prefix}x${n}:`,
      DUCKDB_PATH: path.join(services.workDir, `bench-x${n}-${i}.duckdb`),
    }),
  );
  const children: FleetChild[] = configs.map((c, i) =>
    spawnFleet(services, ['process'], {
      name: `processor-x${n}-${i}`,
      env: {
        TOPIC: topic,
        CONSUMER_GROUP: group,
        REDIS_PREFIX: c.redis.prefix,
        DUCKDB_PATH: c.warehouse.duckdbPath,
        AUTO_OFFSET_RESET: 'earliest',
        METRICS_PORT: '0',
        STATE_CHANGELOG: String(config.topic.changelog !== undefined),
      },
    }),
  );
  const stopAll = () => Promise.all(children.map((c) => c.stop()));
  let timed: { records: number; beforeAllJoined: number; elapsedMs: number; cpu: Record<string, number> };
  try {
    // Any child's crash ends the wait (each one is watched in turn through the first).
    const crashed = Promise.race(children.map((c) => c.crashed));
    const watch: FleetChild = { ...children[0]!, crashed };
    await waitWhileRunning(
      watch,
      () => stableWith(services, group, n),
      `${n} processors in the group`,
      // Every child starts Node, connects and joins; minutes on a loaded 2-core machine.
      600_000,
    );
    const beforeAllJoined = await committedTotal(admin, group, topic);
    const cpu = new CpuMeter({
      ...Object.fromEntries(children.map((c, i) => [`p${i}`, c.pid])),
      kafka: services.pids.kafka,
      redis: services.pids.redis,
    }).start();
    const started = performance.now();
    await waitWhileRunning(
      watch,
      async () => (await committedTotal(admin, group, topic)) >= total,
      `${n} processors to commit ${total} records`,
      timeoutMs,
      25,
    );
    timed = {
      records: total - beforeAllJoined,
      beforeAllJoined,
      elapsedMs: performance.now() - started,
      cpu: cpu.stop(),
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
  const exitCodes = await stopAll();
  let warehouseRows = 0;
  let redisVehicles = 0;
  for (const c of configs) {
    const stored = await countStored(c, services.logger);
    warehouseRows += stored.warehouseRows;
    redisVehicles = stored.redisVehicles;
  }
  // No kill here: a record in two files only after a rebalance while the group formed.
  const ok = redisVehicles === vehicles && warehouseRows >= total;
  const cpuSecondsPerProcess = children.map((_, i) => timed.cpu[`p${i}`] ?? 0);
  const cpuSeconds = Math.round(cpuSecondsPerProcess.reduce((a, b) => a + b, 0) * 100) / 100;
  const us = (seconds: number | undefined) =>
    seconds === undefined || timed.records <= 0 ? null : Math.round((seconds * 1e6) / timed.records);
  return {
    processors: n,
    records: timed.records,
    beforeAllJoined: timed.beforeAllJoined,
    elapsedMs: Math.round(timed.elapsedMs),
    recordsPerS: perSecond(timed.records, timed.elapsedMs),
    cpuSecondsPerProcess,
    cpuSeconds,
    cpuUsPerRecord: us(cpuSeconds) ?? 0,
    kafkaCpuUsPerRecord: us(timed.cpu.kafka),
    redisCpuUsPerRecord: us(timed.cpu.redis),
    verified: { redisVehicles, warehouseRows, ok },
    exitCodes,
  };
}

/** The group is Stable and has `n` members (every child joined and got its partitions). */
async function stableWith(services: BenchServices, group: string, n: number): Promise<boolean> {
  const { groups } = await services.admin.describeGroups([group]);
  return groups[0]?.state === 'Stable' && groups[0].members.length === n;
}
