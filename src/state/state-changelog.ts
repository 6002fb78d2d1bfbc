import type { PositionRecord } from '../domain/records.js';

/**
 * The table's changelog (Kafka adapter: `kafka-state-changelog.ts`), the way Kafka Streams logs a
 * state store: every forward update the table accepted, keyed by vehicle id, in the partition of
 * the record it came from, so partition `p` of the changelog is shard `p` of the table. Compaction
 * keeps the last record per vehicle, and since the table only moves forward in event time, the last
 * logged state is the newest one: a restore from the changelog gets the newest position of every
 * vehicle even where a late report was the last record written to the raw topic.
 */
export interface StateChangelog {
  /**
   * Logs these states (`updatedAt` their processing time); resolves once every one is durable
   * (acks=all). Rejects with a `SinkError` (retriable when Kafka is). `states`: the records' state
   * JSON as the table stored it (`states[i]` is `records[i]`'s), when the table has it; built from
   * the records otherwise.
   */
  append(records: readonly PositionRecord[], updatedAt: number, states?: readonly string[]): Promise<void>;
  close(): Promise<void>;
}
