import type { Kafka } from 'kafkajs';
import type { Position } from '../domain/position.js';
import type { PositionRecord } from '../domain/records.js';
import { errorMessage, FleetError } from '../errors.js';
import { readTopicToEnd } from '../kafka/read-topic-to-end.js';
import type { LatestStateTable } from './latest-state-table.js';
import { newestPerVehicle } from './newest-per-vehicle.js';
import { UNKNOWN_TOPIC_ID } from '../kafka/topic-id.js';
import { parseState } from './state-json.js';

export interface RestoreResult {
  /** Changelog records read. */
  records: number;
  /** States the table moved forward to. */
  applied: number;
}

/** Upserts per call while restoring. */
const RESTORE_BATCH = 10_000;
/** Reading keeps at most about this many records before cutting them to one per vehicle. */
const REDUCE_EVERY = 100_000;

/**
 * Restores the table from its changelog, Kafka Streams style: every partition (shard) from its
 * earliest offset to the end offsets found at the start, each state applied as the record it came
 * from (its partition and offset, so the forward-only rule orders it against anything the table
 * already holds). After compaction that is about one record per vehicle: the newest state it had.
 */
export async function restoreFromChangelog(
  kafka: Kafka,
  topics: { positions: string; changelog: string },
  table: Pick<LatestStateTable, 'upsert'>,
  options: { timeoutMs?: number } = {},
): Promise<RestoreResult> {
  let pending: PositionRecord[] = [];
  let records = 0;
  await readTopicToEnd(
    kafka,
    topics.changelog,
    (partition, message) => {
      if (message.value === null) return;
      records++;
      pending.push(changelogRecord(topics, partition, message.offset, message.value));
      if (pending.length >= REDUCE_EVERY) pending = newestPerVehicle(pending);
    },
    { timeoutMs: options.timeoutMs ?? 600_000 },
  );
  const states = newestPerVehicle(pending);
  let applied = 0;
  for (let start = 0; start < states.length; start += RESTORE_BATCH) {
    applied += (await table.upsert(states.slice(start, start + RESTORE_BATCH))).applied;
  }
  return { records, applied };
}

/** A changelog value (the table's state JSON) back to the position record it was made from. */
function changelogRecord(
  topics: { positions: string; changelog: string },
  partition: number,
  offset: string,
  value: Buffer,
): PositionRecord {
  try {
    const state = parseState(value.toString('utf8'))!;
    const { partition: from, offset: at, updatedAt, ...position } = state;
    if (typeof position.vehicleId !== 'string' || typeof at !== 'string' || !Number.isInteger(from)) {
      throw new TypeError('not a vehicle state');
    }
    return {
      topic: topics.positions,
      // Restored records go to the table only, which keys on vehicle, never on the topic id.
      topicId: UNKNOWN_TOPIC_ID,
      partition: from,
      offset: at,
      position: position as Position,
      kafkaTs: updatedAt,
      bytes: value.length,
    };
  } catch (err) {
    throw new FleetError(
      `${topics.changelog} partition ${partition} offset ${offset} is not a state: ${errorMessage(err)}`,
      { cause: err },
    );
  }
}
