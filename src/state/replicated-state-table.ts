import type { Registry } from 'prom-client';
import { errorMessage } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { defaultRegistry } from '../metrics.js';
import type {
  LatestStateTable,
  ListPage,
  ListQuery,
  NearbyResult,
  StateChange,
  UpsertOptions,
  UpsertResult,
  VehicleState,
} from './latest-state-table.js';
import { replicaMetrics, type ReplicaMetrics } from './replica-metrics.js';
import type { StateFeed } from './state-feed.js';
import type { PositionRecord } from '../domain/records.js';

export interface ReplicatedStateTableOptions {
  /** The table mirrored: every read the replica cannot answer goes to it. Not closed by `close()`. */
  table: LatestStateTable;
  /** The table's change feed (the replica is its only follower; closed by `close()`). */
  feed: StateFeed;
  /** Most vehicles held; one more turns the replica off for good (reads go to `table`). */
  maxVehicles: number;
  logger?: Logger;
  /** @default defaultRegistry */
  registry?: Registry;
  /** Pause before another try after a failed subscribe or scan. @default 1000 (ms) */
  retryDelayMs?: number;
  /** Clock for the feed-delay metric (epoch ms). @default Date.now */
  now?: () => number;
}

/** `syncing`: reads go to the table; `ready`: reads by id from memory; `off`: for good. */
export type ReplicaPhase = 'syncing' | 'ready' | 'off';

/** True when `a` is a later state of its vehicle than `b`: the upsert script's forward rule. */
export function isNewerState(a: VehicleState, b: VehicleState): boolean {
  if (a.ts !== b.ts) return a.ts > b.ts;
  if (a.partition !== b.partition) return false;
  if (a.offset.length !== b.offset.length) return a.offset.length > b.offset.length;
  return a.offset > b.offset;
}

/** Heap budgeted per replicated vehicle: 382 B loaded, 415 B after a change each (bench/replica-memory.ts, 250k bench-shaped states). */
export const REPLICA_BYTES_PER_VEHICLE = 420;

/** API_STATE_REPLICA_MAX_VEHICLES unset: as many vehicles as fit in a quarter of the heap limit. */
export function defaultReplicaMaxVehicles(heapLimitBytes: number): number {
  return Math.floor(heapLimitBytes / 4 / REPLICA_BYTES_PER_VEHICLE);
}

class Superseded extends Error {}

/**
 * A read replica of the latest-state table in this process's memory, behind the table port: `get`
 * and `getMany` answer from a Map while the replica is `ready`; everything else (nearby, list,
 * stale, writes) goes to the mirrored table. Fed by the change feed, bootstrapped by a scan:
 * subscribe first, then scan, so every write is either in the scan or on the feed.
 *
 * Order: during a sync, the first fresh word on a vehicle (from the feed after the subscription or
 * from the scan) replaces whatever the replica held before (which may be stale, or even newer than
 * a Redis that lost data); after that, and once ready, a state only replaces an older one (event
 * time, then offset: `isNewerState`), so a scan entry read before a change can never undo it.
 * Vehicles neither scanned nor changed during a sync are dropped (Redis no longer holds them).
 *
 * Freshness: a read by id returns what Redis held at most one feed delay earlier (measured by
 * `fleet_state_replica_feed_delay_seconds`). A feed loss makes reads go to Redis at once, until a
 * new subscription and scan complete. A miss goes to Redis too (a vehicle newer than the feed).
 */
export class ReplicatedStateTable implements LatestStateTable {
  private readonly states = new Map<string, VehicleState>();
  /** During a sync: vehicles whose state came after the subscription. */
  private fresh: Set<string> | undefined = new Set();
  private phaseValue: ReplicaPhase = 'syncing';
  private generation = 0;
  private closed = false;
  private readonly table: LatestStateTable;
  private readonly feed: StateFeed;
  private readonly logger: Logger;
  private readonly metrics: ReplicaMetrics;
  private readonly retryDelayMs: number;
  private readonly now: () => number;
  private idle: Promise<void> = Promise.resolve();

  constructor(private readonly options: ReplicatedStateTableOptions) {
    this.table = options.table;
    this.feed = options.feed;
    this.logger = (options.logger ?? silentLogger).child({ component: 'state-replica' });
    this.metrics = replicaMetrics(options.registry ?? defaultRegistry);
    this.retryDelayMs = options.retryDelayMs ?? 1000;
    this.now = options.now ?? Date.now;
    this.metrics.ready.set(0);
  }

  get phase(): ReplicaPhase {
    return this.phaseValue;
  }

  /** Vehicles held. */
  get size(): number {
    return this.states.size;
  }

  /**
   * Follows the feed and starts the first sync, which retries until Redis answers; reads go to
   * the table until it completes (`synced()`).
   */
  async start(): Promise<void> {
    try {
      await this.feed.follow({
        change: (state) => this.onChange(state),
        lost: (reason) => this.onLost(reason),
      });
    } catch (err) {
      // The sync below subscribes again, with retries.
      this.logger.warn({ err: errorMessage(err) }, 'state change feed not reachable yet');
    }
    this.sync();
  }

  /** Resolves when the current sync has ended (ready, off or closed). For tests and the bench. */
  synced(): Promise<void> {
    return this.idle;
  }

  async get(vehicleId: string): Promise<VehicleState | null> {
    if (this.phaseValue === 'ready') {
      const state = this.states.get(vehicleId);
      if (state) {
        this.metrics.reads.inc({ source: 'replica' });
        return state;
      }
    }
    this.metrics.reads.inc({ source: 'redis' });
    return this.table.get(vehicleId);
  }

  async getMany(vehicleIds: readonly string[]): Promise<(VehicleState | null)[]> {
    if (this.phaseValue !== 'ready') return this.table.getMany(vehicleIds);
    const out = vehicleIds.map((id) => this.states.get(id) ?? null);
    const misses = vehicleIds.filter((_, i) => out[i] === null);
    if (misses.length === 0) return out;
    const fetched = await this.table.getMany(misses);
    let j = 0;
    return out.map((state) => state ?? fetched[j++] ?? null);
  }

  upsert(batch: readonly PositionRecord[], options?: UpsertOptions): Promise<UpsertResult> {
    return this.table.upsert(batch, options);
  }
  nearby(query: { lat: number; lon: number; radiusM: number; limit?: number }): Promise<NearbyResult[]> {
    return this.table.nearby(query);
  }
  list(query?: ListQuery): Promise<ListPage> {
    return this.table.list(query);
  }
  stale(olderThan: number, limit?: number): Promise<VehicleState[]> {
    return this.table.stale(olderThan, limit);
  }
  count(): Promise<number> {
    return this.table.count();
  }
  subscribe(onChange: (change: StateChange) => void): Promise<() => Promise<void>> {
    return this.table.subscribe(onChange);
  }
  async verifyLayout(): Promise<void> {
    await this.table.verifyLayout?.();
  }
  clear(): Promise<void> {
    return this.table.clear();
  }
  ping(): Promise<void> {
    return this.table.ping();
  }

  /** Stops following the feed and drops the copy; the mirrored table stays open (its owner closes it). */
  async close(): Promise<void> {
    this.closed = true;
    this.generation++;
    this.setPhase('syncing');
    this.states.clear();
    await this.feed.close();
  }

  private onChange(state: VehicleState): void {
    if (this.phaseValue === 'off' || this.closed) return;
    this.metrics.feedDelaySeconds.observe(Math.max(0, this.now() - state.updatedAt) / 1000);
    this.apply(state);
  }

  private onLost(reason: string): void {
    if (this.phaseValue === 'off' || this.closed) return;
    this.metrics.losses.inc();
    this.logger.warn({ reason }, 'state change feed may have lost changes; reads go to Redis until resynced');
    this.sync();
  }

  private apply(state: VehicleState): void {
    const id = state.vehicleId;
    const held = this.states.get(id);
    if (this.fresh !== undefined && !this.fresh.has(id)) {
      this.fresh.add(id);
    } else if (held !== undefined && !isNewerState(state, held)) {
      return;
    }
    if (held === undefined && this.states.size >= this.options.maxVehicles) {
      this.turnOff();
      return;
    }
    this.states.set(id, state);
    if (held === undefined) this.metrics.vehicles.set(this.states.size);
  }

  /** Not ready from now on; resubscribes and scans (again, until it works or is superseded). */
  private sync(): void {
    const generation = ++this.generation;
    this.setPhase('syncing');
    this.fresh = new Set();
    this.idle = this.syncLoop(generation);
  }

  private async syncLoop(generation: number): Promise<void> {
    const current = () => generation === this.generation && this.phaseValue !== 'off' && !this.closed;
    for (let attempt = 1; current(); attempt++) {
      const started = performance.now();
      try {
        await this.feed.resubscribe();
        await this.feed.scan((batch) => {
          if (!current()) throw new Superseded();
          for (const state of batch) this.apply(state);
        });
        if (!current()) return;
        const fresh = this.fresh ?? new Set<string>();
        for (const id of this.states.keys()) if (!fresh.has(id)) this.states.delete(id);
        this.fresh = undefined;
        this.setPhase('ready');
        this.metrics.vehicles.set(this.states.size);
        this.logger.info(
          { vehicles: this.states.size, ms: Math.round(performance.now() - started) },
          'state replica in sync; reads by id answered from memory',
        );
        return;
      } catch (err) {
        if (err instanceof Superseded || !current()) return;
        this.logger.warn({ err: errorMessage(err), attempt }, 'state replica sync failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, this.retryDelayMs));
      }
    }
  }

  private turnOff(): void {
    this.setPhase('off');
    this.states.clear();
    this.fresh = undefined;
    this.logger.warn(
      { maxVehicles: this.options.maxVehicles },
      'state replica turned off: the table holds more vehicles than API_STATE_REPLICA_MAX_VEHICLES; reads go to Redis',
    );
    this.feed.close().catch((err: unknown) => this.logger.warn({ err }, 'closing the state feed failed'));
  }

  private setPhase(phase: ReplicaPhase): void {
    this.phaseValue = phase;
    this.metrics.ready.set(phase === 'ready' ? 1 : 0);
    if (phase === 'off') this.metrics.vehicles.set(0);
  }
}
