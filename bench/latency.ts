import { readdirSync } from 'node:fs';
import os from 'node:os';
import type { Config } from '../src/config/index.js';
import { freePort } from '../src/local/processes.js';
import { spawnFleet, waitWhileRunning, type FleetChild } from './fleet-child.js';
import { waitForHttp, type LookupResult } from './lookups.js';
import { committedTotal, endOffsetTotal, groupIsStable } from './offsets.js';
import { histogramPercentile, scrapeProcessor, type ProcessorStats } from './processor-metrics.js';
import { CpuMeter, MemorySampler } from './proc.js';
import { createPositionTopic, childEnv, type BenchServices } from './services.js';
import type { LatencySummary } from './stats.js';
import { warehouseLatency } from './stored.js';
import type { RateResult, RateRun } from './workers/produce-at-rate.js';
import { WorkerHandle } from './worker-ipc.js';

/** One fixed produce rate, sustained. */
export interface RateLatency {
  rate: number;
  /** Positions offered per second over the run (all acknowledged unless `failed`). */
  achievedRate: number;
  produced: number;
  failed: number;
  /** How long after the run the last acknowledgement came (producer backlog). */
  ackTailMs: number;
  /** Event time → visible in Redis (change published by the upsert), after warm-up. */
  redis: LatencySummary;
  /**
   * The bare Kafka path in the same run: event time → read by a consumer that only timestamps
   * (publisher → broker → kafkajs, no processing, no commits). Ours is shown as a ratio to it.
   */
  bareKafka?: LatencySummary;
  /**
   * Whether the observers saw the newest position of the run within the catch-up limit. When not,
   * the slowest records are missing from `redis` / `bareKafka`: the figures are better than the truth.
   */
  catchUp?: { redis: boolean; bareKafka: boolean; waitedMs: number };
  /** Every offset of the runs was committed before the warehouse latency was read (else rows are missing). */
  warehouseCaughtUp?: boolean;
  /** Event time → row written to the warehouse (ingested_at − ts), after warm-up. */
  warehouse?: LatencySummary;
  lookups: LookupResult;
  cpuSeconds: Record<string, number>;
  processorRssMb: number;
  /**
   * The processor's own view (its event → visible histogram, bucket upper bounds, ms) and its table
   * writes during the run: tells Kafka-side delay from processor-side delay.
   */
  processorSide?: { p50: number | null; p99: number | null; tableBatches: number; tableAvgRecords: number };
}

export interface LatencyOptions {
  rates: number[];
  durationMs: number;
  vehicles: number;
  /** Lookups per second against the API while the load runs (half by id, half nearby). */
  lookupRate: number;
  /** Vehicles already in the table (from the replay) that lookups may ask for. */
  vehiclesInTable: number;
}

const MAX_CATCH_UP_MS = 60_000;

/**
 * Experiment knob (issue 17 item 3, "priorities"): BENCH_PROCESSOR_NICE=<n> lowers the live
 * processor's CPU priority, every thread of it (Linux niceness is per thread; threads started later
 * inherit it), so the API, Kafka and Redis win a contended core first.
 */
function reniceProcessor(pid: number, logger: BenchServices['logger']): void {
  const nice = process.env.BENCH_PROCESSOR_NICE;
  if (nice === undefined) return;
  const tasks = readdirSync(`/proc/${pid}/task`).map(Number);
  for (const tid of tasks) os.setPriority(tid, Number(nice));
  logger.warn(
    { pid, threads: tasks.length, nice: os.getPriority(pid) },
    'latency: processor reniced (experiment)',
  );
}

/**
 * Runs `fleet process` and `fleet serve` on a fresh topic, then, per rate, publishes positions with
 * ts = now for `durationMs` while a worker records when each becomes visible in Redis and the API
 * answers lookups. Warehouse latency is read from the rows afterwards.
 */
export async function latencyUnderLoad(
  services: BenchServices,
  config: Readonly<Config>,
  options: LatencyOptions,
): Promise<RateLatency[]> {
  const { admin, logger } = services;
  await createPositionTopic(services, config);
  const env = {
    TOPIC: config.topic.name,
    CONSUMER_GROUP: config.consumer.groupId,
    REDIS_PREFIX: config.redis.prefix,
    DUCKDB_PATH: config.warehouse.duckdbPath,
  };
  const metricsPort = await freePort();
  const processor = spawnFleet(services, ['process'], {
    name: 'processor-live',
    env: { ...env, METRICS_PORT: String(metricsPort) },
  });
  const port = await freePort();
  // The API reads Redis only for these lookups; its own in-memory DuckDB avoids the processor's file lock.
  const api = spawnFleet(services, ['serve'], {
    name: 'api',
    env: { ...env, PORT: String(port), DUCKDB_PATH: ':memory:' },
  });
  const observer = WorkerHandle.fork('observe-visibility', childEnv(services));
  const bare = WorkerHandle.fork('observe-kafka', childEnv(services));
  const producer = WorkerHandle.fork('produce-at-rate', childEnv(services));
  const lookups = WorkerHandle.fork('lookup-load', childEnv(services));
  const children: FleetChild[] = [processor, api];
  const results: RateLatency[] = [];
  const windows: { from: number; to: number }[] = [];
  let warehouseCaughtUp = false;
  try {
    await waitWhileRunning(
      processor,
      () => groupIsStable(admin, config.consumer.groupId),
      'the processor',
      120_000,
    );
    await Promise.race([waitForHttp(`http://127.0.0.1:${port}`, 120_000), api.crashed]);
    reniceProcessor(processor.pid, logger);
    await observer.request('start', { ...config.redis, partitions: config.topic.partitions });
    await bare.request('start', { config: env });
    let produced = 0;
    for (const rate of options.rates) {
      const warmupMs = Math.min(5000, options.durationMs * 0.1);
      const from = Date.now() + warmupMs;
      await observer.request('window', { from, to: Number.MAX_SAFE_INTEGER });
      await bare.request('window', { from, to: Number.MAX_SAFE_INTEGER });
      await lookups.request('start', {
        baseUrl: `http://127.0.0.1:${port}`,
        ratePerS: options.lookupRate,
        vehiclesInTable: options.vehiclesInTable,
        produced,
        rate,
        vehicles: options.vehicles,
      });
      const statsBefore = await scrapeProcessor(metricsPort);
      const memory = new MemorySampler(processor.pid);
      const cpu = new CpuMeter({ processor: processor.pid, api: api.pid, ...services.pids }).start();
      logger.info({ rate, durationMs: options.durationMs }, 'latency: producing at a fixed rate');
      const run: RateRun = { rate, durationMs: options.durationMs, vehicles: options.vehicles };
      const sent = await producer.request<RateResult>('run', { config: env, run: run });
      const lookupResult = await lookups.request<LookupResult>('stop');
      const cpuSeconds = cpu.stop();
      produced += sent.sent;
      const waitStarted = performance.now();
      const [redisCaughtUp, bareCaughtUp] = await Promise.all([
        waitForNewest(observer, sent.to, MAX_CATCH_UP_MS),
        waitForNewest(bare, sent.to, MAX_CATCH_UP_MS),
      ]);
      const waitedMs = Math.round(performance.now() - waitStarted);
      if (!redisCaughtUp || !bareCaughtUp)
        logger.warn({ rate, redisCaughtUp, bareCaughtUp, waitedMs }, 'latency: gave up waiting for catch-up');
      const redis = await observer.request<LatencySummary>('collect');
      const bareKafka = await bare.request<LatencySummary>('collect');
      const statsAfter = await scrapeProcessor(metricsPort);
      windows.push({ from, to: sent.to });
      results.push({
        rate,
        achievedRate: Math.round((sent.sent * 1000) / sent.generateMs),
        produced: sent.sent,
        failed: sent.failed,
        ackTailMs: sent.ms - sent.generateMs,
        redis,
        bareKafka,
        catchUp: { redis: redisCaughtUp, bareKafka: bareCaughtUp, waitedMs },
        lookups: lookupResult,
        cpuSeconds,
        processorRssMb: memory.stop().peakRssMb,
        ...(statsAfter ? { processorSide: processorSide(statsBefore, statsAfter) } : {}),
      });
      logger.info({ rate, redis, lookups: lookupResult }, 'latency: rate done');
    }
    // Let the last micro-batch reach the warehouse on its own (a stop would flush it early).
    const end = await endOffsetTotal(admin, config.topic.name);
    warehouseCaughtUp = await waitWhileRunning(
      processor,
      async () => (await committedTotal(admin, config.consumer.groupId, config.topic.name)) >= end,
      'the processor to commit the latency runs',
      MAX_CATCH_UP_MS,
      100,
    ).then(
      () => true,
      (err: unknown) => {
        logger.warn({ err: String(err) }, 'processor did not catch up');
        return false;
      },
    );
  } finally {
    await producer.close();
    await observer.close();
    await bare.close();
    await lookups.close();
    for (const child of children) await child.stop();
  }
  const warehouse = await warehouseLatency(config, windows);
  return results.map((r, i) => ({
    ...r,
    ...(warehouse[i] ? { warehouse: warehouse[i] } : {}),
    warehouseCaughtUp,
  }));
}

function processorSide(before: ProcessorStats | null, after: ProcessorStats) {
  const table = after.sinks.table;
  const tableBefore = before?.sinks.table;
  const batches = (table?.batches ?? 0) - (tableBefore?.batches ?? 0);
  const records =
    (table?.batches ?? 0) * (table?.avgRecords ?? 0) -
    (tableBefore?.batches ?? 0) * (tableBefore?.avgRecords ?? 0);
  return {
    p50: histogramPercentile(before?.eventToVisible, after.eventToVisible, 50),
    p99: histogramPercentile(before?.eventToVisible, after.eventToVisible, 99),
    tableBatches: batches,
    tableAvgRecords: batches > 0 ? Math.round(records / batches) : 0,
  };
}

/**
 * Waits until the observer saw a change with event time >= `ts` (the pipeline caught up); false
 * when it gave up after `timeoutMs`.
 */
async function waitForNewest(observer: WorkerHandle, ts: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await observer.request<number>('newest')) >= ts) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}
