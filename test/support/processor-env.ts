import type { Message } from 'kafkajs';
import { Partitioners } from 'kafkajs';
import { Registry } from 'prom-client';
import type { Config } from '../../src/config/index.js';
import { jsonCodec } from '../../src/domain/codec.js';
import { retry } from '../../src/retry.js';
import type { Position } from '../../src/domain/position.js';
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
