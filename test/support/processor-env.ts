import type { Message } from 'kafkajs';
import { Partitioners } from 'kafkajs';
import { Registry } from 'prom-client';
import type { Config } from '../../src/config/index.js';
import { jsonCodec } from '../../src/domain/codec.js';
import { retry } from '../../src/retry.js';
import type { Position } from '../../src/domain/position.js';
import { silentLogger, type Logger } from '../../src/logger.js';
import { startProcessor, type ProcessorDeps, type ProcessorHandle } from '../../src/processor/processor.js';
import { createWarehouse } from '../../src/sinks/create-warehouse.js';
import type { Warehouse } from '../../src/sinks/warehouse-sink.js';
import {
  createRedisStateTable,
  type RedisStateTable,
  type RedisStateTableOptions,
} from '../../src/state/redis-state-table.js';
import { testKafka } from './env.js';

/** Instant retries for sink failures in tests. */
export const fastRetry = { initialMs: 10, maxMs: 50, jitter: false } as const;
/** kafkajs consumer retries that give up quickly enough for tests. */
export const fastConsumerRetry = { initialRetryTime: 100, retries: 5, maxRetryTime: 1000 };

/** A fresh metrics registry, so in-process processors don't share counters with other tests. */
export const testRegistry = () => new Registry();

/** Positions for `vehicles` vehicles, `perVehicle` each, event time increasing per vehicle. */
export function fleetPositions(vehicles: number, perVehicle: number, prefix = 'veh'): Position[] {
  const start = Date.now() - 60_000;
  const out: Position[] = [];
  for (let i = 0; i < perVehicle; i++) {
    for (let v = 0; v < vehicles; v++) {
      out.push({
        vehicleId: `${prefix}-${v}`,
        ts: start + i * 10 + (v % 10),
        lat: 48 + v / 100 + i / 10_000,
        lon: 11 + v / 100 - i / 10_000,
        speed: (i * 7) % 120,
        heading: (i * 13) % 360,
      });
    }
  }
  return out;
}

/** The position with the greatest event time per vehicle (later in the list wins a tie). */
export function newestPerVehicle(positions: readonly Position[]): Map<string, Position> {
  const newest = new Map<string, Position>();
  for (const p of positions) {
    const cur = newest.get(p.vehicleId);
    if (!cur || p.ts >= cur.ts) newest.set(p.vehicleId, p);
  }
  return newest;
}

/** Produces with key = vehicle id (acks=all), in sends of `chunk` messages. */
export async function produce(
  config: Readonly<Config>,
  messages: readonly (Position | Message)[],
  options: { chunk?: number; topic?: string } = {},
): Promise<void> {
  const producer = testKafka(config).producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  try {
    const chunk = options.chunk ?? 1000;
    for (let i = 0; i < messages.length; i += chunk) {
      await producer.send({
        topic: options.topic ?? config.topic.name,
        acks: -1,
        messages: messages.slice(i, i + chunk).map(toMessage),
      });
    }
  } finally {
    await producer.disconnect();
  }
}

function toMessage(m: Position | Message): Message {
  if ('vehicleId' in m) {
    return {
      key: m.vehicleId,
      value: jsonCodec.encode(m),
      headers: { 'content-type': jsonCodec.contentType },
    };
  }
  return m;
}

/** Committed offsets of a group per partition (-1 = none). */
export async function committedOffsets(config: Readonly<Config>, groupId = config.consumer.groupId) {
  const admin = testKafka(config).admin();
  await admin.connect();
  try {
    // Right after the group's first join the coordinator may still be loading or moving: kafkajs
    // surfaces that (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS) as a retriable error.
    const [topic] = await retry(() => admin.fetchOffsets({ groupId, topics: [config.topic.name] }), {
      retries: 8,
      shouldRetry: (err) => (err as { retriable?: unknown }).retriable === true,
    });
    const ends = await admin.fetchTopicOffsets(config.topic.name);
    return {
      committed: new Map(topic!.partitions.map((p) => [p.partition, BigInt(p.offset)])),
      ends: new Map(ends.map((p) => [p.partition, BigInt(p.high)])),
    };
  } finally {
    await admin.disconnect();
  }
}

/** True when the group has committed every partition up to its high watermark. */
export async function fullyCommitted(
  config: Readonly<Config>,
  groupId = config.consumer.groupId,
): Promise<boolean> {
  const { committed, ends } = await committedOffsets(config, groupId);
  return [...ends].every(([p, end]) => end === 0n || committed.get(p) === end);
}

/** Processor dependencies a test may set; the table and warehouse default to the shared ones. */
export type TestProcessorDeps = Omit<ProcessorDeps, 'registry' | 'logger'>;

/** What {@link openTestStores} and {@link startTestPipeline} may be given instead of their defaults. */
export interface TestPipelineOptions {
  /** @default silentLogger */
  logger?: Logger;
  /** Registry of the table and the first processor. @default a fresh one */
  registry?: Registry;
  /** Options of the Redis table over the config's (a proxy URL, short timeouts, another partition count). */
  table?: Partial<RedisStateTableOptions>;
  /** Dependencies of every processor started (a fake warehouse, `warehouse: null`, a scheduler, ...). */
  processor?: TestProcessorDeps;
}

/** A real Redis table and warehouse for `config`, and the in-process processors started over them. */
export interface TestStores {
  table: RedisStateTable;
  warehouse: Warehouse;
  /** The registry of the table and the first processor (its metrics). */
  registry: Registry;
  /** Every processor started, in order. */
  processors: ProcessorHandle[];
  /**
   * Starts a processor over the shared table and warehouse (fast retries, its own registry after
   * the first): another member of the group, or a restart. `close()` stops it.
   */
  startProcessor(deps?: TestProcessorDeps): Promise<ProcessorHandle>;
  /** Stops the processors, then closes the table and the warehouse. */
  close(): Promise<void>;
}

/** A {@link TestStores} with one processor already running. */
export interface TestPipeline extends TestStores {
  processor: ProcessorHandle;
}

/** Opens {@link TestStores} (the warehouse `ready()`); no processor runs yet. */
export async function openTestStores(
  config: Readonly<Config>,
  options: TestPipelineOptions = {},
): Promise<TestStores> {
  const registry = options.registry ?? testRegistry();
  const logger = options.logger ?? silentLogger;
  const table = createRedisStateTable({
    partitions: config.topic.partitions,
    ...config.redis,
    registry,
    ...options.table,
  });
  const warehouse = await createWarehouse(config.warehouse, logger);
  const processors: ProcessorHandle[] = [];
  const closeStores = async () => {
    await table.close();
    await warehouse.close();
  };
  try {
    await warehouse.ready();
  } catch (err) {
    await closeStores();
    throw err;
  }
  return {
    table,
    warehouse,
    registry,
    processors,
    async startProcessor(deps = {}) {
      const processor = await startProcessor(config, {
        logger,
        registry: processors.length === 0 ? registry : testRegistry(),
        table,
        warehouse,
        retry: fastRetry,
        consumerRetry: fastConsumerRetry,
        ...options.processor,
        ...deps,
      });
      processors.push(processor);
      return processor;
    },
    async close() {
      await Promise.all(processors.map((p) => p.stop().catch(() => undefined)));
      await closeStores();
    },
  };
}

/** Starts {@link TestPipeline}: fast sink and consumer retries, silent logs, its own registry. */
export async function startTestPipeline(
  config: Readonly<Config>,
  options: TestPipelineOptions = {},
): Promise<TestPipeline> {
  const stores = await openTestStores(config, options);
  try {
    return { ...stores, processor: await stores.startProcessor() };
  } catch (err) {
    await stores.close();
    throw err;
  }
}
