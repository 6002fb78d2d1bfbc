import { createHash, randomBytes } from 'node:crypto';
import type { Position } from '../../src/domain/position.js';
import type { PositionRecord } from '../../src/domain/records.js';

/** Event-time origin of the suite's tracks (fixed: history windows do not depend on now). */
export const T0 = Date.UTC(2025, 0, 1, 8, 0, 0);

/** A unique name: tests never see each other's rows, even in a shared, persistent table. */
export function id(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** A stand-in topic id for a topic name: 16 bytes in Kafka's text form, the same for the same name. */
export function topicIdOf(topic: string): string {
  return createHash('sha256').update(topic).digest().subarray(0, 16).toString('base64url');
}

export function rec(
  topic: string,
  partition: number,
  offset: number | string,
  position: Position,
  topicId = topicIdOf(topic),
): PositionRecord {
  return {
    topic,
    topicId,
    partition,
    offset: String(offset),
    position,
    kafkaTs: position.ts + 5,
    bytes: 100,
  };
}

/** `n` records of one vehicle on one partition, offsets from `first`, one per second. */
export function track(
  topic: string,
  vehicleId: string,
  n: number,
  first = 0,
  partition = 0,
): PositionRecord[] {
  return Array.from({ length: n }, (_, i) =>
    rec(topic, partition, first + i, {
      vehicleId,
      ts: T0 + (first + i) * 1000,
      lat: 52.5 + i * 1e-5,
      lon: 13.4 - i * 1e-5,
      speed: 30 + (i % 7),
      heading: (i * 3) % 360,
    }),
  );
}
