import type { BoundingBox } from '../domain/geo.js';
import type { Position } from '../domain/position.js';
import type { PositionRecord } from '../domain/records.js';

/** The latest known position of a vehicle, with where it came from. */
export interface VehicleState extends Position {
  partition: number;
  offset: string;
  /** When the table last accepted an update for this vehicle, epoch ms (processing time). */
  updatedAt: number;
}

export interface UpsertResult {
  /** Vehicles moved forward by this batch. */
  applied: number;
  /** Records older than (or equal to) what the table already held: ignored. */
  ignored: number;
  /**
   * Only when asked (`{ current: true }`): the records that are their vehicle's state after this
   * call — applied now, or the very record (same partition and offset) the table already held —
   * and the `updatedAt` their states carry. What a changelog of the table must log. `states`, when
   * the adapter has them: each record's state JSON as stored (`states[i]` is `records[i]`'s).
   */
  current?: { records: readonly PositionRecord[]; updatedAt: number; states?: readonly string[] };
}

export interface UpsertOptions {
  /** Report the records that are now current (`UpsertResult.current`). @default false */
  current?: boolean;
}

export interface NearbyResult {
  vehicle: VehicleState;
  distanceM: number;
}

export interface ListQuery {
  /** Opaque cursor from the previous page; omit for the first page. */
  cursor?: string;
  /** Page size. @default 100 */
  limit?: number;
  bbox?: BoundingBox;
  /** Only vehicles seen within this many ms (event time). */
  maxAgeMs?: number;
  /** Reference time for ages. @default Date.now() */
  now?: number;
}

export interface ListPage {
  vehicles: VehicleState[];
  /** Cursor of the next page, or null at the end. */
  nextCursor: string | null;
  total: number;
}

/** A change published to live subscribers after the table moved a vehicle forward. */
export type StateChange = VehicleState;

/**
 * The latest-state table port (Redis adapter: `redis-state-table.ts`). `upsert` only ever moves a
 * vehicle forward in event time (ties broken by partition offset), so out-of-order, duplicate and
 * replayed records never make it regress.
 */
export interface LatestStateTable {
  /** Applies a batch in one round trip; resolves when the table holds it. */
  upsert(batch: readonly PositionRecord[], options?: UpsertOptions): Promise<UpsertResult>;
  get(vehicleId: string): Promise<VehicleState | null>;
  getMany(vehicleIds: readonly string[]): Promise<(VehicleState | null)[]>;
  /** Vehicles within `radiusM` of a point, nearest first. */
  nearby(query: { lat: number; lon: number; radiusM: number; limit?: number }): Promise<NearbyResult[]>;
  /** Vehicles ordered by id, paginated, optionally filtered by box and age. */
  list(query?: ListQuery): Promise<ListPage>;
  /** Vehicles whose last event time is before `olderThan` (epoch ms), stalest first. */
  stale(olderThan: number, limit?: number): Promise<VehicleState[]>;
  count(): Promise<number>;
  /** Live changes (Redis pub/sub). Returns an unsubscribe function. */
  subscribe(onChange: (change: StateChange) => void): Promise<() => Promise<void>>;
  /**
   * Checks the stored layout against the topic (Redis: one shard per partition) and marks an
   * empty table; rejects, naming the command to run, when the table must be rebuilt first.
   */
  verifyLayout?(): Promise<void>;
  /** Removes every key of this table (its prefix only). */
  clear(): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
