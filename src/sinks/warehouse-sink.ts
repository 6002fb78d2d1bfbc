import type { PositionRecord } from '../domain/records.js';
import type { WarehouseReader } from './warehouse-reader.js';

/**
 * The warehouse port: every position, exactly once. Adapters: `duckdb-sink.ts` (embedded default)
 * and `snowflake-sink.ts`. Chosen in `create-warehouse.ts`.
 *
 * Idempotence is the contract, on two keys:
 * - a record: (topic, topic id, partition, offset). Writing the same batch twice — or a batch
 *   overlapping an earlier one, as after a crash before the offset commit — leaves one row per
 *   record; the topic id tells a re-created topic's records (offsets from 0 again) from the old ones;
 * - a position: (vehicle id, event time). A device that retries after a lost answer writes the same
 *   position again at another offset; the first one stored wins, later ones are skipped and counted
 *   in `positionDuplicates` (even when their other fields differ).
 * Append-only adapters (Snowpipe Streaming) keep the first key by offset tokens and leave the
 * second to reads (see docs/snowflake.md).
 */
export interface WarehouseSink {
  /** Adapter name for logs and metrics: `duckdb`, `snowflake`. */
  readonly name: string;
  /** Connects and creates (or verifies) the table. Call once before anything else. */
  ready(): Promise<void>;
  /**
   * Makes the batch durable. Resolves only when every record is stored (or was stored before).
   * Rejects with a SinkError whose `retriable` says whether trying again can help.
   */
  write(batch: readonly PositionRecord[]): Promise<WriteResult>;
  /** Cheap round trip for readiness probes. */
  ping(): Promise<void>;
  close(): Promise<void>;
  /**
   * Optional: where the warehouse itself says reading should resume, for partitions just assigned
   * — the next offset after what it has durably stored. Only adapters that track offsets
   * (Snowpipe Streaming: the channel's committed offset token) implement it; the source seeks
   * there when it is past the group's committed offset. Partitions without a record are left out.
   */
  committedOffsets?(
    source: { topic: string; topicId: string },
    partitions: readonly number[],
  ): Promise<PartitionOffset[]>;
}

/** A partition's next offset to read. */
export interface PartitionOffset {
  partition: number;
  offset: string;
}

export interface WriteResult {
  /** Rows newly inserted by this call. */
  inserted: number;
  /** Records skipped: already present (re-delivery), or their position is (see below). */
  duplicates: number;
  /**
   * Of `duplicates`: records skipped because another record (other coordinates) holds their
   * position, (vehicle id, event time) — device retries. Counted in
   * `fleet_processor_warehouse_duplicates_total{kind="position"}`.
   */
  positionDuplicates: number;
}

/** The result of an empty write. */
export const NOTHING_WRITTEN: WriteResult = { inserted: 0, duplicates: 0, positionDuplicates: 0 };

/** An adapter implements both sides: the write port here and the read port (`warehouse-reader.ts`). */
export type Warehouse = WarehouseSink & WarehouseReader;
