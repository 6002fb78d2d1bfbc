import type { ChainableCommander } from 'ioredis';
import type { Registry } from 'prom-client';
import type { PositionRecord } from '../domain/records.js';
import { partitionForKey } from '../kafka/partitioner.js';
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
import { listVehicles } from './list-vehicles.js';
import {
  createRedisConnection,
  isCluster,
  redisError,
  scanKeys,
  type RedisClient,
  type RedisConnectionOptions,
  type RedisTarget,
} from './redis-connection.js';
import { fetchStates, nearbyAcrossShards, staleAcrossShards } from './shard-reads.js';
import { layoutKey, shardKeys, type ShardKeys } from './shard-keys.js';
import { stateMetrics, type StateMetrics } from './state-metrics.js';
import { StateSubscriptions } from './state-subscriptions.js';
import type { StateFeed } from './state-feed.js';
import { RedisStateFeed } from './redis-state-feed.js';
import { parseState } from './state-json.js';
import { inspectLayout, layoutProblem, type TableLayout } from './table-layout.js';
import { MAX_CHUNK_RECORDS, UPSERT_LUA } from './upsert-script.js';
import { upsertShards } from './shard-upsert.js';

export interface RedisStateTableOptions extends RedisConnectionOptions, RedisTarget {
  /** Prefix of every key (and of the change channels), e.g. `fleet:`. */
  prefix: string;
  /**
   * The topic's partition count: the number of shards. A function is called once, on first use
   * (the composition root passes one that reads the topic metadata).
   */
  partitions: number | (() => Promise<number>);
  logger?: Logger;
  /** @default defaultRegistry */
  registry?: Registry;
  /** Records per Lua call; the calls of one batch are pipelined. @default 1000, at most 2000 */
  chunkSize?: number;
  /** Processing-time clock for `updatedAt` (epoch ms). @default Date.now */
  now?: () => number;
}

const MAX_NEARBY = 1000;

/**
 * The Redis latest-state table, sharded by Kafka partition (docs/state.md). Shard `p` holds the
 * vehicles whose key the producer's partitioner puts in partition `p`, under keys tagged `{p<p>}`
 * (see `shard-keys.ts`): `states` (HASH id → state JSON), `versions` (HASH id → `partition:offset`),
 * `geo` (GEO set), `seen` (ZSET, score = event ts), `ids` (ZSET, score 0, for id-ordered pages),
 * and the channel `changes`. Reads by id go to one shard; list, nearby and stale fan out to every
 * shard in parallel and merge. Works on one Redis and on a Redis Cluster alike.
 */
export class RedisStateTable implements LatestStateTable {
  private readonly client: RedisClient;
  private readonly prefix: string;
  private readonly chunkSize: number;
  private readonly now: () => number;
  private readonly logger: Logger;
  private readonly subscriptions: StateSubscriptions;
  private readonly connectAs: (name: string) => RedisClient;
  private feed: RedisStateFeed | undefined;
  private readonly metrics: StateMetrics;
  private readonly sharded: '0' | '1';
  private readonly partitionsOption: RedisStateTableOptions['partitions'];
  private shardsPromise: Promise<ShardKeys[]> | undefined;
  private shards: ShardKeys[] = [];

  constructor(options: RedisStateTableOptions) {
    this.prefix = options.prefix;
    this.partitionsOption = options.partitions;
    this.logger = (options.logger ?? silentLogger).child({ component: 'redis-state-table' });
    this.chunkSize = Math.max(1, Math.min(options.chunkSize ?? 1000, MAX_CHUNK_RECORDS));
    this.now = options.now ?? Date.now;
    const connection: RedisConnectionOptions = {
      ...(options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
      ...(options.commandTimeoutMs !== undefined ? { commandTimeoutMs: options.commandTimeoutMs } : {}),
      ...(options.maxReconnectDelayMs !== undefined
        ? { maxReconnectDelayMs: options.maxReconnectDelayMs }
        : {}),
    };
    const target: RedisTarget = { url: options.url, clusterNodes: options.clusterNodes ?? [] };
    this.client = createRedisConnection(target, this.logger, {
      ...connection,
      connectionName: 'fleet-state',
    });
    this.sharded = isCluster(this.client) ? '1' : '0';
    this.client.defineCommand('upsertLatest', { lua: UPSERT_LUA });
    this.connectAs = (name) =>
      createRedisConnection(target, this.logger, { ...connection, connectionName: name });
    this.subscriptions = new StateSubscriptions(
      () => this.connectAs('fleet-state-sub'),
      async () => (await this.allShards()).map((keys) => keys.channel),
      this.logger,
    );
    this.metrics = stateMetrics(options.registry ?? defaultRegistry);
  }

  /** The shard count (the topic's partition count), resolved on first use. */
  async partitions(): Promise<number> {
    return (await this.allShards()).length;
  }

  /** What the stored table holds compared with the topic's partition count. */
  async layout(): Promise<TableLayout> {
    const partitions = await this.partitions();
    return this.read('layout', () => inspectLayout(this.client, this.prefix, partitions));
  }

  /**
   * Fails (naming the command to run) unless the table is empty or sharded for the topic's
   * partition count; marks an empty table with that count.
   */
  async verifyLayout(): Promise<void> {
    const layout = await this.layout();
    const problem = layoutProblem(layout, this.prefix);
    if (problem) throw problem;
    if (layout.kind === 'empty') await this.markLayout();
  }

  /** Records the partition count the table is sharded for (`fleet replay --rebuild` after a clear). */
  async markLayout(): Promise<void> {
    const partitions = await this.partitions();
    await this.read('layout', () => this.client.set(layoutKey(this.prefix), String(partitions)));
  }

  async upsert(batch: readonly PositionRecord[], options: UpsertOptions = {}): Promise<UpsertResult> {
    if (batch.length === 0) return { applied: 0, ignored: 0 };
    const shards = await this.allShards();
    const stop = this.metrics.upsertSeconds.startTimer();
    const updatedAt = this.now();
    const { applied, current, states } = await upsertShards(
      this.client,
      shards,
      batch,
      {
        chunkSize: this.chunkSize,
        updatedAt,
        sharded: this.sharded === '1',
        current: options.current ?? false,
      },
      (pipelines) => Promise.all(pipelines.map((p) => this.exec('upsert', p))),
    );
    stop();
    const ignored = batch.length - applied;
    this.metrics.records.inc({ outcome: 'applied' }, applied);
    if (ignored > 0) this.metrics.records.inc({ outcome: 'ignored' }, ignored);
    return options.current
      ? { applied, ignored, current: { records: current, updatedAt, states } }
      : { applied, ignored };
  }

  async get(vehicleId: string): Promise<VehicleState | null> {
    return this.read('get', async () => {
      const keys = await this.shardOfId(vehicleId);
      return parseState(await this.client.hget(keys.states, vehicleId));
    });
  }

  async getMany(vehicleIds: readonly string[]): Promise<(VehicleState | null)[]> {
    if (vehicleIds.length === 0) return [];
    return this.read('getMany', async () => {
      await this.allShards();
      return fetchStates(this.client, this.shardOf, vehicleIds);
    });
  }

  async nearby(query: {
    lat: number;
    lon: number;
    radiusM: number;
    limit?: number;
  }): Promise<NearbyResult[]> {
    const limit = Math.max(1, Math.min(query.limit ?? 50, MAX_NEARBY));
    return this.read('nearby', async () =>
      nearbyAcrossShards(this.client, await this.allShards(), this.shardOf, { ...query, limit }),
    );
  }

  async list(query: ListQuery = {}): Promise<ListPage> {
    return this.read('list', async () => {
      const page = await listVehicles(this.client, await this.allShards(), query);
      const states = await fetchStates(this.client, this.shardOf, page.ids);
      return { vehicles: states.filter((s) => s !== null), nextCursor: page.nextCursor, total: page.total };
    });
  }

  async stale(olderThan: number, limit = 100): Promise<VehicleState[]> {
    return this.read('stale', async () =>
      staleAcrossShards(this.client, await this.allShards(), this.shardOf, olderThan, limit),
    );
  }

  async count(): Promise<number> {
    return this.read('count', async () => {
      const counts = await Promise.all((await this.allShards()).map((keys) => this.client.zcard(keys.ids)));
      return counts.reduce((sum, n) => sum + n, 0);
    });
  }

  subscribe(onChange: (change: StateChange) => void): Promise<() => Promise<void>> {
    return this.subscriptions.add(onChange);
  }

  /** The change feed with its losses, and a scan (an in-memory replica's source), on its own connection. */
  stateFeed(): StateFeed {
    const connect = () => this.connectAs('fleet-state-feed');
    return (this.feed ??= new RedisStateFeed(connect, this.client, () => this.allShards(), this.logger));
  }

  /** Removes every key under the prefix: every shard (of any partition count), old-layout keys too. */
  async clear(): Promise<void> {
    const pattern = `${this.prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
    try {
      const keys = await scanKeys(this.client, pattern);
      // One UNLINK per key: on a cluster the keys sit in different slots.
      await Promise.all(keys.map((key) => this.client.unlink(key)));
    } catch (err) {
      throw redisError('clear', err);
    }
  }

  async ping(): Promise<void> {
    await this.read('ping', () => this.client.ping());
  }

  async close(): Promise<void> {
    await this.feed?.close();
    await this.subscriptions.close();
    await this.client.quit().catch(() => this.client.disconnect());
  }

  private readonly shardOf = (vehicleId: string): ShardKeys =>
    this.shards[partitionForKey(vehicleId, this.shards.length)]!;

  private async shardOfId(vehicleId: string): Promise<ShardKeys> {
    await this.allShards();
    return this.shardOf(vehicleId);
  }

  /** Resolves the partition count once; a failed lookup is retried on the next call. */
  private allShards(): Promise<ShardKeys[]> {
    if (this.shardsPromise === undefined) {
      const option = this.partitionsOption;
      const pending = (typeof option === 'number' ? Promise.resolve(option) : option()).then((n) => {
        if (!Number.isInteger(n) || n < 1) throw new RangeError(`partition count must be >= 1, got ${n}`);
        this.shards = Array.from({ length: n }, (_, p) => shardKeys(this.prefix, p));
        return this.shards;
      });
      this.shardsPromise = pending;
      pending.catch(() => {
        if (this.shardsPromise === pending) this.shardsPromise = undefined;
      });
    }
    return this.shardsPromise;
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
