import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { errorMessage, ServiceError } from '../src/errors.js';
import type { Logger } from '../src/logger.js';
import { averageEncodedSize } from './fleet-positions.js';
import { consumerPerformance, producerPerformance } from './kafka-tools.js';
import { latencyUnderLoad } from './latency.js';
import { concurrentTestProcesses, describeMachine } from './machine.js';
import type { BenchOptions } from './options.js';
import { producerThroughput } from './producer.js';
import { rawKafkajsConsume } from './raw-consume.js';
import { redisBenchmark } from './redis-benchmark.js';
import { simulatorThroughput } from './simulator.js';
import { processorReplay } from './replay.js';
import { markdownTable, writeResults } from './report.js';
import { buildResults, type BenchParts, type BenchResults } from './results.js';
import { benchConfig, createPlainTopic, startBenchServices, stopBenchServices } from './services.js';
import { endOffsetTotal } from './offsets.js';

/** Lookups per second while the latency load runs (half by id, half nearby). */
const LOOKUP_RATE = 200;

/**
 * `npm run bench`: starts private services, measures the ceilings and the pipeline in one run,
 * writes `bench/results/<date>.json`, prints the markdown table (and keeps it in bench/README.md
 * for full runs). A failing step is recorded and the run goes on.
 */
export async function runBench(
  options: BenchOptions,
  logger: Logger,
): Promise<{ results: BenchResults; table: string; file: string }> {
  const machine = describeMachine();
  if (machine.concurrentTestProcesses > 0) {
    logger.warn(
      { processes: machine.concurrentTestProcesses },
      'other test processes are running: figures will be lower',
    );
  }
  const parts: BenchParts = { errors: {} };
  const step = async <T>(name: string, fn: () => Promise<T>): Promise<T | undefined> => {
    const started = performance.now();
    logger.info({ step: name }, 'bench step started');
    try {
      const value = await fn();
      logger.info({ step: name, s: Math.round((performance.now() - started) / 100) / 10 }, 'bench step done');
      return value;
    } catch (err) {
      parts.errors[name] = errorMessage(err);
      logger.error({ step: name, err: errorMessage(err) }, 'bench step failed');
      return undefined;
    }
  };
  const services = await startBenchServices(logger);
  const runtime = services.runtime.kind;
  try {
    const id = randomBytes(3).toString('hex');
    const replayConfig = benchConfig(services, {
      TOPIC: `bench_positions_${id}`,
      CONSUMER_GROUP: `bench-processor-${id}`,
      REDIS_PREFIX: `bench:${id}:`,
      DUCKDB_PATH: path.join(services.workDir, 'bench.duckdb'),
      TOPIC_PARTITIONS: String(options.partitions),
    });
    const wants = (s: string) => options.steps.has(s as never);
    if (wants('producer')) {
      const simConfig = benchConfig(services, {
        TOPIC: `bench_simulator_${id}`,
        TOPIC_PARTITIONS: String(options.partitions),
      });
      parts.simulator = await step('simulator', () =>
        simulatorThroughput(services, simConfig, {
          vehicles: options.vehicles,
          durationMs: options.simulatorMs,
        }),
      );
    }
    if (wants('producer') || wants('ceilings') || wants('replay')) {
      parts.producer = await step('publisher pre-load', () =>
        producerThroughput(services, replayConfig, { records: options.records, vehicles: options.vehicles }),
      );
    }
    const recordSize = parts.producer?.avgRecordBytes ?? averageEncodedSize();
    // The consumers and the replay read the pre-loaded topic: without all of it there is nothing to time.
    const loaded = await endOffsetTotal(services.admin, replayConfig.topic.name).catch(() => 0);
    const readable = async () => {
      if (loaded < options.records)
        throw new ServiceError(
          `the replay topic holds ${loaded} of ${options.records} records (producer step failed)`,
        );
    };
    if (wants('ceilings')) {
      parts.producerPerf = await step('ProducerPerformance', async () => {
        const topic = `bench_producer_perf_${id}`;
        await createPlainTopic(services, topic, options.partitions);
        return producerPerformance(services, topic, options.records, recordSize);
      });
      parts.consumerPerf = await step('ConsumerPerformance', async () => {
        await readable();
        return consumerPerformance(services, replayConfig.topic.name, options.records);
      });
      parts.rawConsume = await step('raw kafkajs consume', async () => {
        await readable();
        return rawKafkajsConsume(services, replayConfig, options.records);
      });
      parts.redis = await step('redis-benchmark', () =>
        redisBenchmark(services, options.records, options.vehicles, recordSize),
      );
    }
    if (wants('replay')) {
      const profileDir = path.resolve(options.outDir, 'results', 'tmp');
      if (options.cpuProf) mkdirSync(profileDir, { recursive: true });
      parts.replay = await step('processor replay', async () => {
        await readable();
        return processorReplay(services, replayConfig, {
          vehicles: options.vehicles,
          ...(options.cpuProf ? { cpuProfDir: profileDir } : {}),
        });
      });
    }
    if (wants('latency')) {
      const liveConfig = benchConfig(services, {
        TOPIC: `bench_live_${id}`,
        CONSUMER_GROUP: `bench-live-${id}`,
        // Same table and warehouse as the replay: lookups hit a full fleet, as in production.
        REDIS_PREFIX: replayConfig.redis.prefix,
        DUCKDB_PATH: replayConfig.warehouse.duckdbPath,
        TOPIC_PARTITIONS: String(options.partitions),
      });
      parts.latency = await step('latency', () =>
        latencyUnderLoad(services, liveConfig, {
          rates: options.rates,
          durationMs: options.durationMs,
          vehicles: options.vehicles,
          lookupRate: LOOKUP_RATE,
          vehiclesInTable: parts.replay?.verified.redisVehicles ?? 0,
        }),
      );
    }
  } finally {
    await stopBenchServices(services, options.keepServices);
  }
  machine.loadAtEnd = Math.round(os.loadavg()[0]! * 100) / 100;
  machine.concurrentTestProcesses = Math.max(machine.concurrentTestProcesses, concurrentTestProcesses());
  const results = buildResults(options, machine, parts, new Date(), runtime);
  const table = markdownTable(results);
  const file = await writeResults(options.outDir, results, table);
  return { results, table, file };
}
