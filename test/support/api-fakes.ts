import type { Geofence } from '../../src/domain/geofence.js';
import type { GeofenceStore } from '../../src/domain/geofence-store.js';
import type { VehicleEvent } from '../../src/domain/vehicle-event.js';
import type { EventQuery, EventsWarehouse } from '../../src/sinks/events-warehouse.js';
import { haversineM, inBox } from '../../src/domain/geo.js';
import type { PositionRecord } from '../../src/domain/records.js';
import type { Warehouse } from '../../src/sinks/warehouse-sink.js';
import type { HistoryRow, TripRules, VehicleSummary } from '../../src/sinks/warehouse-reader.js';
import type {
  LatestStateTable,
  ListPage,
  ListQuery,
  NearbyResult,
  StateChange,
  VehicleState,
} from '../../src/state/latest-state-table.js';

/**
 * In-memory fakes of OUR ports for API unit tests (fastify inject). They follow the port
 * contracts closely enough for routing, validation and auth tests; the real adapters are covered
 * by the integration tests.
 */
export class FakeStateTable implements LatestStateTable {
  readonly vehicles = new Map<string, VehicleState>();
  readonly listeners = new Set<(change: StateChange) => void>();
  readonly listCalls: ListQuery[] = [];
  pingError: Error | null = null;
  subscribeError: Error | null = null;

  put(...states: VehicleState[]): void {
    for (const s of states) this.vehicles.set(s.vehicleId, s);
  }

  /** Publishes a change to subscribers, as the processor does after moving a vehicle. */
  emit(change: StateChange): void {
    this.vehicles.set(change.vehicleId, change);
    for (const l of this.listeners) l(change);
  }

  async upsert(batch: readonly PositionRecord[]) {
    for (const r of batch) {
      this.emit({ ...r.position, partition: r.partition, offset: r.offset, updatedAt: Date.now() });
    }
    return { applied: batch.length, ignored: 0 };
  }
  async get(id: string) {
    return this.vehicles.get(id) ?? null;
  }
  async getMany(ids: readonly string[]) {
    return ids.map((id) => this.vehicles.get(id) ?? null);
  }
  async nearby(q: { lat: number; lon: number; radiusM: number; limit?: number }): Promise<NearbyResult[]> {
    return [...this.vehicles.values()]
      .map((vehicle) => ({ vehicle, distanceM: haversineM(q.lat, q.lon, vehicle.lat, vehicle.lon) }))
      .filter((r) => r.distanceM <= q.radiusM)
      .sort((a, b) => a.distanceM - b.distanceM)
      .slice(0, q.limit ?? 50);
  }
  async list(q: ListQuery = {}): Promise<ListPage> {
    this.listCalls.push(q);
    const now = q.now ?? Date.now();
    const all = [...this.vehicles.values()]
      .filter((v) => !q.bbox || inBox(v.lat, v.lon, q.bbox))
      .filter((v) => q.maxAgeMs === undefined || now - v.ts <= q.maxAgeMs)
      .sort((a, b) => (a.vehicleId < b.vehicleId ? -1 : 1))
      .filter((v) => !q.cursor || v.vehicleId > q.cursor);
    const limit = q.limit ?? 100;
    const page = all.slice(0, limit);
    return {
      vehicles: page,
      nextCursor: all.length > limit ? page[page.length - 1]!.vehicleId : null,
      total: this.vehicles.size,
    };
  }
  async stale(olderThan: number, limit = 100) {
    return [...this.vehicles.values()].filter((v) => v.ts < olderThan).slice(0, limit);
  }
  async count() {
    return this.vehicles.size;
  }
  async subscribe(onChange: (change: StateChange) => void) {
    if (this.subscribeError) throw this.subscribeError;
    this.listeners.add(onChange);
    return async () => {
      this.listeners.delete(onChange);
    };
  }
  async clear() {
    this.vehicles.clear();
  }
  async ping() {
    if (this.pingError) throw this.pingError;
  }
  async close() {}
}

export class FakeWarehouse implements Pick<Warehouse, 'history' | 'summary' | 'count' | 'ping'> {
  readonly rows: HistoryRow[] = [];
  readonly historyCalls: { vehicleId: string; from: number; to: number; limit?: number }[] = [];
  readonly summaryCalls: { vehicleId: string; from: number; to: number; rules: TripRules }[] = [];
  pingError: Error | null = null;

  async history(q: { vehicleId: string; from: number; to: number; limit?: number }) {
    this.historyCalls.push(q);
    return this.rows
      .filter((r) => r.vehicleId === q.vehicleId && r.ts >= q.from && r.ts < q.to)
      .sort((a, b) => a.ts - b.ts)
      .slice(0, q.limit ?? Infinity);
  }
  async summary(q: {
    vehicleId: string;
    from: number;
    to: number;
    rules: TripRules;
  }): Promise<VehicleSummary> {
    this.summaryCalls.push(q);
    const rows = await this.history(q);
    return {
      vehicleId: q.vehicleId,
      from: q.from,
      to: q.to,
      positions: rows.length,
      distanceM: 0,
      movingS: 0,
      stoppedS: 0,
      avgSpeedKmh: null,
      maxSpeedKmh: null,
      trips: 0,
      stops: 0,
    };
  }
  async count() {
    return this.rows.length;
  }
  async ping() {
    if (this.pingError) throw this.pingError;
  }
}

export function vehicle(
  vehicleId: string,
  lat: number,
  lon: number,
  ts: number,
  extra: Partial<VehicleState> = {},
): VehicleState {
  return { vehicleId, lat, lon, ts, partition: 0, offset: String(ts), updatedAt: ts, ...extra };
}

export function historyRow(
  vehicleId: string,
  ts: number,
  lat: number,
  lon: number,
  speed: number | null = null,
): HistoryRow {
  return {
    vehicleId,
    ts,
    lat,
    lon,
    speed,
    heading: null,
    altitude: null,
    accuracy: null,
    battery: null,
    attributes: null,
    topic: 'positions',
    partition: 0,
    offset: String(ts),
    ingestedAt: ts,
  };
}

/** The geofences port in memory: writes are visible at once (what the Kafka store guarantees too). */
export class FakeGeofenceStore implements GeofenceStore {
  readonly map = new Map<string, Geofence>();
  list() {
    return [...this.map.values()].sort((a, b) => a.id.localeCompare(b.id));
  }
  get(id: string) {
    return this.map.get(id);
  }
  async put(geofence: Geofence) {
    const created = !this.map.has(geofence.id);
    this.map.set(geofence.id, geofence);
    return { created };
  }
  async remove(id: string) {
    return this.map.delete(id);
  }
}

/** The events-warehouse port in memory: unique on the id, queries filtered and ordered as the SQL does. */
export class FakeEventsWarehouse implements EventsWarehouse {
  readonly rows = new Map<string, VehicleEvent>();
  readonly queries: EventQuery[] = [];
  async ready() {}
  async write(events: readonly VehicleEvent[]) {
    let inserted = 0;
    for (const e of events) if (!this.rows.has(e.id) && this.rows.set(e.id, e)) inserted++;
    return { inserted, duplicates: events.length - inserted };
  }
  async query(q: EventQuery) {
    this.queries.push(q);
    return [...this.rows.values()]
      .filter(
        (e) =>
          (q.vehicleId === undefined || e.vehicleId === q.vehicleId) &&
          (!q.types || q.types.includes(e.type)) &&
          (q.from === undefined || e.ts >= q.from) &&
          (q.to === undefined || e.ts < q.to),
      )
      .sort((a, b) => b.ts - a.ts || (a.id < b.id ? 1 : -1))
      .slice(0, q.limit);
  }
  async count(filter: { vehicleId?: string } = {}) {
    return [...this.rows.values()].filter((e) => !filter.vehicleId || e.vehicleId === filter.vehicleId)
      .length;
  }
  async close() {}
}
