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
import { clientAb } from './client-ab.js';
import { redisBenchmark } from './redis-benchmark.js';
import { simulatorThroughput } from './simulator.js';
import { processorReplay } from './replay.js';
import { redisOnlyReplay } from './redis-replay.js';
import { peerReplay } from './peer.js';
import { markdownTable, writeResults } from './report.js';
import { buildResults, type BenchParts, type BenchResults } from './results.js';
import { benchConfig, createPlainTopic, startBenchServices, stopBenchServices } from './services.js';
import { endOffsetTotal } from './offsets.js';
import { EVENTS_REPLAY_ENV, eventsReplay } from './events-replay.js';
import { wireFormatComparison } from './wire-format.js';
import { scaleOutReplay } from './scale-out.js';

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
      STATE_CHANGELOG: String(options.changelog),
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
    const scaling = options.processors.length > 0;
    if (
      wants('producer') ||
      wants('ceilings') ||
      wants('clients') ||
      wants('replay') ||
      wants('events') ||
      wants('peer') ||
      scaling
    ) {
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
    if (wants('clients')) {
      parts.clients = await step('client A/B (@platformatic/kafka vs kafkajs)', async () => {
        await readable();
        return clientAb(services, replayConfig, {
          records: options.records,
          produceRecords: Math.min(options.records, 300_000),
          vehicles: options.vehicles,
          partitions: options.partitions,
          topicPrefix: `bench_clients_${id}`,
        });
      });
      // The publisher alone again with the other client, same size, into a position topic of its own.
      const platformaticConfig = benchConfig(services, {
        TOPIC: `bench_positions_platformatic_${id}`,
        TOPIC_PARTITIONS: String(options.partitions),
      });
      parts.publisherPlatformatic = await step('publisher (@platformatic/kafka client)', async () => {
        const result = await producerThroughput(services, platformaticConfig, {
          records: options.records,
          vehicles: options.vehicles,
          client: 'platformatic',
        });
        // A rate of a run that lost positions is no rate: the step fails and shows why.
        if (result.failed > 0 || result.records !== options.records || result.inTopic !== options.records)
          throw new ServiceError(
            `the platformatic publisher acknowledged ${result.records} of ${options.records} positions (${result.failed} failed); the topic holds ${result.inTopic}`,
          );
        return result;
      });
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
      // `fleet replay` (Redis only) on the same topic, into a table of its own, beside the processor's.
      const redisOnlyConfig = benchConfig(services, {
        TOPIC: replayConfig.topic.name,
        CONSUMER_GROUP: `bench-replay-${id}`,
        REDIS_PREFIX: `bench:replay:${id}:`,
        TOPIC_PARTITIONS: String(options.partitions),
      });
      parts.redisReplay = await step('fleet replay (Redis only)', async () => {
        await readable();
        return redisOnlyReplay(services, redisOnlyConfig, { vehicles: options.vehicles });
      });
    }
    if (wants('events')) {
      const eventsConfig = benchConfig(services, {
        TOPIC: replayConfig.topic.name,
        TOPIC_PARTITIONS: String(options.partitions),
        EVENTS_TOPIC: `bench_events_${id}`,
        GEOFENCES_TOPIC: `bench_geofences_${id}`,
        EVENTS_GROUP: `bench-events-${id}`,
        ...EVENTS_REPLAY_ENV,
      });
      // A failed output check fails the step (error line, exit code 1) but keeps its figures.
      await step('events processor replay', async () => {
        await readable();
        parts.events = await eventsReplay(services, eventsConfig, { geofences: 1000 });
        const v = parts.events.verified;
        if (!v.ok)
          throw new ServiceError(
            `vehicle_events does not hold the detectors' events: ${v.expected} expected, ${v.records} records; lost ${v.lost}, duplicated ${v.duplicated}, foreign ${v.foreign}`,
          );
      });
    }
    if (wants('peer')) {
      // Right after our replay, on the same topic: its own group, Redis prefix and DuckDB file.
      const peerConfig = benchConfig(services, {
        TOPIC: replayConfig.topic.name,
        CONSUMER_GROUP: `bench-peer-${id}`,
        REDIS_PREFIX: `bench:peer:${id}:`,
        DUCKDB_PATH: path.join(services.workDir, 'bench-peer.duckdb'),
        TOPIC_PARTITIONS: String(options.partitions),
      });
      parts.peer = await step('kafka streams peer', async () => {
        await readable();
        return peerReplay(services, peerConfig, { vehicles: options.vehicles });
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
    if (scaling) {
      parts.scaleOut = await step('scale-out replay', async () => {
        await readable();
        return scaleOutReplay(services, replayConfig, {
          counts: options.processors,
          vehicles: options.vehicles,
        });
      });
    }
    if (wants('wire')) {
      parts.wire = await step('wire format (JSON vs Avro)', () =>
        wireFormatComparison(Math.min(options.records, 200_000)),
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
