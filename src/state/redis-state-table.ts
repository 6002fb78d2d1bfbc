import type { ChainableCommander, Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { VEHICLE_ID_PATTERN } from '../domain/position.js';
import type { PositionRecord } from '../domain/records.js';
import { SinkError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { defaultRegistry } from '../metrics.js';
import type {
  LatestStateTable,
  ListPage,
  ListQuery,
  NearbyResult,
  StateChange,
  UpsertResult,
  VehicleState,
} from './latest-state-table.js';
import { clampGeoLat, listVehicles, type StateKeys } from './list-vehicles.js';
import { newestPerVehicle } from './newest-per-vehicle.js';
import { createRedisConnection, redisError, type RedisConnectionOptions } from './redis-connection.js';
import { stateMetrics, type StateMetrics } from './state-metrics.js';
import { StateSubscriptions } from './state-subscriptions.js';
import { parseState } from './state-hash.js';
import { encodeRecord, MAX_CHUNK_RECORDS, UPSERT_LUA } from './upsert-script.js';

export interface RedisStateTableOptions extends RedisConnectionOptions {
  /** Redis URL, e.g. `redis://127.0.0.1:6379`. */
  url: string;
  /** Prefix of every key (and of the changes channel), e.g. `fleet:`. */
  prefix: string;
  logger?: Logger;
  /** @default defaultRegistry */
  registry?: Registry;
  /** Pub/sub channel for changes. @default `<prefix>changes` */
  channel?: string;
  /** Records per Lua call; the calls of one batch are pipelined. @default 1000, at most 2000 */
  chunkSize?: number;
  /** Processing-time clock for `updatedAt` (epoch ms). @default Date.now */
  now?: () => number;
}

interface UpsertCommander {
  upsertLatest(numKeys: number, args: string[]): unknown;
}

const MAX_NEARBY = 1000;

/**
 * The Redis latest-state table. Keys under `prefix`: `states` (HASH id → state JSON), `versions`
 * (HASH id → `partition:offset`), `geo` (GEO set),
 * `seen` (ZSET, score = event ts), `ids` (ZSET, score 0, for id-ordered pages); changes are
 * published on `<prefix>changes`. See the README, section Latest-state table.
 */
export class RedisStateTable implements LatestStateTable {
  private readonly client: Redis;
  private readonly prefix: string;
  private readonly keys: StateKeys;
  private readonly channel: string;
  private readonly chunkSize: number;
  private readonly now: () => number;
  private readonly logger: Logger;
  private readonly subscriptions: StateSubscriptions;
  private readonly metrics: StateMetrics;

  constructor(options: RedisStateTableOptions) {
    const { prefix } = options;
    this.prefix = prefix;
    this.logger = (options.logger ?? silentLogger).child({ component: 'redis-state-table' });
    this.keys = {
      states: `${prefix}states`,
      versions: `${prefix}versions`,
      geo: `${prefix}geo`,
      seen: `${prefix}seen`,
      ids: `${prefix}ids`,
    };
    this.channel = options.channel ?? `${prefix}changes`;
    this.chunkSize = Math.max(1, Math.min(options.chunkSize ?? 1000, MAX_CHUNK_RECORDS));
    this.now = options.now ?? Date.now;
    const connection: RedisConnectionOptions = {
      ...(options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
      ...(options.commandTimeoutMs !== undefined ? { commandTimeoutMs: options.commandTimeoutMs } : {}),
      ...(options.maxReconnectDelayMs !== undefined
        ? { maxReconnectDelayMs: options.maxReconnectDelayMs }
        : {}),
    };
    this.client = createRedisConnection(options.url, this.logger, {
      ...connection,
      connectionName: 'fleet-state',
    });
    this.client.defineCommand('upsertLatest', { lua: UPSERT_LUA });
    this.subscriptions = new StateSubscriptions(
      () =>
        createRedisConnection(options.url, this.logger, { ...connection, connectionName: 'fleet-state-sub' }),
      this.channel,
      this.logger,
    );
    this.metrics = stateMetrics(options.registry ?? defaultRegistry);
  }

  async upsert(batch: readonly PositionRecord[]): Promise<UpsertResult> {
    if (batch.length === 0) return { applied: 0, ignored: 0 };
    const stop = this.metrics.upsertSeconds.startTimer();
    const records = newestPerVehicle(batch);
    const pipeline = this.client.pipeline();
    const updatedAt = this.now();
    for (let start = 0; start < records.length; start += this.chunkSize) {
      const chunk = records.slice(start, start + this.chunkSize);
      let fields = '';
      for (const record of chunk) {
        storableId(record);
        fields += encodeRecord(record, updatedAt);
      }
      (pipeline as ChainableCommander & UpsertCommander).upsertLatest(5, [
        this.keys.geo,
        this.keys.seen,
        this.keys.ids,
        this.keys.states,
        this.keys.versions,
        this.channel,
        fields,
      ]);
    }
    const applied = (await this.exec('upsert', pipeline)).reduce<number>((sum, n) => sum + Number(n), 0);
    stop();
    const ignored = batch.length - applied;
    this.metrics.records.inc({ outcome: 'applied' }, applied);
    if (ignored > 0) this.metrics.records.inc({ outcome: 'ignored' }, ignored);
    return { applied, ignored };
  }

  async get(vehicleId: string): Promise<VehicleState | null> {
    return this.read('get', async () => parseState(await this.client.hget(this.keys.states, vehicleId)));
  }

  async getMany(vehicleIds: readonly string[]): Promise<(VehicleState | null)[]> {
    if (vehicleIds.length === 0) return [];
    return this.read('getMany', () => this.fetchStates(vehicleIds));
  }

  async nearby(query: {
    lat: number;
    lon: number;
    radiusM: number;
    limit?: number;
  }): Promise<NearbyResult[]> {
    const limit = Math.max(1, Math.min(query.limit ?? 50, MAX_NEARBY));
    return this.read('nearby', async () => {
      const hits = (await this.client.call(
        'GEOSEARCH',
        this.keys.geo,
        'FROMLONLAT',
        query.lon,
        clampGeoLat(query.lat),
        'BYRADIUS',
        query.radiusM,
        'm',
        'ASC',
        'COUNT',
        limit,
        'WITHDIST',
      )) as [string, string][];
      const states = await this.fetchStates(hits.map(([id]) => id));
      const out: NearbyResult[] = [];
      hits.forEach(([, dist], i) => {
        const vehicle = states[i];
        if (vehicle) out.push({ vehicle, distanceM: Number(dist) });
      });
      return out;
    });
  }

  async list(query: ListQuery = {}): Promise<ListPage> {
    return this.read('list', async () => {
      const page = await listVehicles(this.client, this.keys, query);
      const states = await this.fetchStates(page.ids);
      return { vehicles: states.filter((s) => s !== null), nextCursor: page.nextCursor, total: page.total };
    });
  }

  async stale(olderThan: number, limit = 100): Promise<VehicleState[]> {
    return this.read('stale', async () => {
      const ids = await this.client.zrange(
        this.keys.seen,
        '-inf',
        `(${olderThan}`,
        'BYSCORE',
        'LIMIT',
        0,
        limit,
      );
      return (await this.fetchStates(ids)).filter((s) => s !== null);
    });
  }

  async count(): Promise<number> {
    return this.read('count', () => this.client.zcard(this.keys.ids));
  }

  subscribe(onChange: (change: StateChange) => void): Promise<() => Promise<void>> {
    return this.subscriptions.add(onChange);
  }

  async clear(): Promise<void> {
    const pattern = `${this.prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
    try {
      let cursor = '0';
      do {
        const [next, found] = await this.client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        if (found.length > 0) await this.client.unlink(...found);
        cursor = next;
      } while (cursor !== '0');
    } catch (err) {
      throw redisError('clear', err);
    }
  }

  async ping(): Promise<void> {
    await this.read('ping', () => this.client.ping());
  }

  async close(): Promise<void> {
    await this.subscriptions.close();
    await this.client.quit().catch(() => this.client.disconnect());
  }

  /** One HMGET of the state JSONs: one command for any number of vehicles. */
  private async fetchStates(ids: readonly string[]): Promise<(VehicleState | null)[]> {
    if (ids.length === 0) return [];
    const states = await this.client.hmget(this.keys.states, ...ids);
    return states.map((s) => parseState(s));
  }

  private async exec(operation: string, pipeline: ChainableCommander): Promise<unknown[]> {
    let results: [Error | null, unknown][] | null;
    try {
      results = await pipeline.exec();
    } catch (err) {
      throw redisError(operation, err);
    }
    if (results === null) throw redisError(operation, new Error('pipeline aborted'));
    return results.map(([err, value]) => {
      if (err) throw redisError(operation, err);
      return value;
    });
  }

  private async read<T>(op: string, fn: () => Promise<T>): Promise<T> {
    const stop = this.metrics.readSeconds.startTimer({ op });
    try {
      return await fn();
    } catch (err) {
      throw redisError(op, err);
    } finally {
      stop();
    }
  }
}

export function createRedisStateTable(options: RedisStateTableOptions): RedisStateTable {
  return new RedisStateTable(options);
}

/** Ids become key suffixes, GEO members and hand-built JSON: only the validated alphabet is safe. */
function storableId(record: PositionRecord): string {
  const id = record.position.vehicleId;
  if (!VEHICLE_ID_PATTERN.test(id)) {
    throw new SinkError('redis', `vehicle id ${JSON.stringify(id.slice(0, 64))} is not storable`, {
      retriable: false,
    });
  }
  return id;
}
