import { existsSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import type { Admin, Kafka } from 'kafkajs';
import type { VehicleEvent } from '../src/domain/vehicle-event.js';
import { followTopic } from '../src/kafka/follow-topic.js';
import { checkTableName } from '../src/sinks/warehouse-sql.js';

/**
 * What the events scenario reads back besides the topic: the events table of the DuckDB file
 * (straight from the file, not through the code under test) and where the events sink stood.
 */

/** A committed event of the events topic with where it lies. */
export interface PlacedEvent {
  event: VehicleEvent;
  partition: number;
  offset: bigint;
}

/** Every committed record of the events topic (read_committed) with its partition and offset. */
export async function readPlacedEvents(kafka: Kafka, topic: string): Promise<PlacedEvent[]> {
  const out: PlacedEvent[] = [];
  const following = await followTopic(kafka, topic, {
    stopWhenCaughtUp: true,
    onRecord: (partition, m) =>
      out.push({
        event: JSON.parse(m.value!.toString()) as VehicleEvent,
        partition,
        offset: BigInt(m.offset),
      }),
  });
  await following.caughtUp;
  await following.stop().catch(() => undefined);
  return out;
}

/**
 * The event id of every row of the events table (a row per entry: an id stored twice shows twice),
 * or none when the file or the table does not exist yet. Opened read-only, which replays the WAL a
 * SIGKILLed writer left; call only while no process holds the file.
 */
export async function readWarehouseEventIds(file: string, table: string): Promise<string[]> {
  if (!existsSync(file)) return [];
  const instance = await DuckDBInstance.create(file, { access_mode: 'READ_ONLY' });
  const connection = await instance.connect();
  try {
    const exists = await connection.runAndReadAll(
      `SELECT count(*) FROM information_schema.tables WHERE table_name = $1`,
      [table],
    );
    if (Number(exists.getRows()[0]?.[0] ?? 0) === 0) return [];
    const reader = await connection.runAndReadAll(`SELECT event_id FROM ${checkTableName(table)}`);
    return reader.getRows().map((row) => String(row[0]));
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** Committed offset per partition of `groupId` on `topic` (partitions without one are absent). */
export async function groupOffsets(
  admin: Admin,
  groupId: string,
  topic: string,
): Promise<Map<number, bigint>> {
  const fetched = await admin.fetchOffsets({ groupId, topics: [topic] });
  const out = new Map<number, bigint>();
  for (const p of fetched[0]?.partitions ?? [])
    if (Number(p.offset) >= 0) out.set(p.partition, BigInt(p.offset));
  return out;
}

/** End offset (high watermark) per partition of `topic`. */
export async function endOffsets(admin: Admin, topic: string): Promise<Map<number, bigint>> {
  return new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)]));
}

/** The warehouse and the sink's position right after a kill (before the next processor starts). */
export interface KillSnapshot {
  ids: string[];
  /** The sink group's committed offsets on the events topic. */
  sinkAt: Map<number, bigint>;
  /** The events topic's end offsets. */
  topicEnd: Map<number, bigint>;
}

export interface SnapshotVerdict {
  /** Events the sink had committed past that the table did not hold (must be 0: it commits after writing). */
  committedButMissing: number;
  /** Rows stored but not yet committed by the sink: the kill hit between a write and its commit. */
  writtenNotCommitted: number;
  /** Committed events the sink had not stored yet: it was behind (reading or writing) at the kill. */
  pending: number;
}

/**
 * Judges one kill's snapshot against the final topic contents (each committed event once by id,
 * with its partition and offset).
 */
export function judgeSnapshot(snapshot: KillSnapshot, finalEvents: readonly PlacedEvent[]): SnapshotVerdict {
  const stored = new Set(snapshot.ids);
  let committedButMissing = 0;
  let writtenNotCommitted = 0;
  let pending = 0;
  for (const { event, partition, offset } of finalEvents) {
    const sinkAt = snapshot.sinkAt.get(partition) ?? -1n;
    const inTable = stored.has(event.id);
    if (offset < sinkAt && !inTable) committedButMissing++;
    else if (offset >= sinkAt && inTable) writtenNotCommitted++;
    else if (!inTable && offset < (snapshot.topicEnd.get(partition) ?? 0n)) pending++;
  }
  return { committedButMissing, writtenNotCommitted, pending };
}

/** Events the sink has not committed past yet (by the last offset holding an event, per partition). */
export function sinkBehind(finalEvents: readonly PlacedEvent[], sinkAt: Map<number, bigint>): number {
  return finalEvents.filter((e) => e.offset >= (sinkAt.get(e.partition) ?? -1n)).length;
}
