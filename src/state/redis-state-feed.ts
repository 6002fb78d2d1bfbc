import { errorMessage, FleetError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { VehicleState } from './latest-state-table.js';
import { isCluster, redisError, type RedisClient } from './redis-connection.js';
import type { ShardKeys } from './shard-keys.js';
import type { StateFeed, StateFeedListener } from './state-feed.js';
import { parseChanges, parseState } from './state-json.js';

/** Entries per HSCAN call: big enough to be cheap, small enough not to stall Redis (~1 ms). */
const SCAN_COUNT = 1000;

/**
 * The table's change feed on its own subscriber connection (never shared with the live stream's,
 * so its losses are its own), and a snapshot by HSCAN of every shard's `states` hash.
 *
 * Losses: pub/sub delivers at most once, so anything that breaks the subscriber connection can drop
 * changes silently. Every way ioredis reports it is turned into `lost`: `close` of the one Redis
 * (ioredis then reconnects and resubscribes on its own, but what was published meanwhile is gone),
 * and on a cluster `-node` / `-subscriber` (a shard's sharded subscriber ended or was replaced
 * after a slot move). An unparsable message is a loss too.
 */
export class RedisStateFeed implements StateFeed {
  private connection: RedisClient | undefined;
  private listener: StateFeedListener | undefined;
  private channelSet = new Set<string>();

  constructor(
    private readonly connect: () => RedisClient,
    private readonly client: RedisClient,
    private readonly shards: () => Promise<readonly ShardKeys[]>,
    private readonly logger: Logger,
  ) {}

  async follow(listener: StateFeedListener): Promise<void> {
    if (this.listener) throw new FleetError('a state feed has one follower');
    // Listener and connection first: a failed first subscribe is retried with `resubscribe()`.
    this.listener = listener;
    const connection = (this.connection = this.connect());
    const onMessage = (channel: string, message: string) => {
      if (!this.channelSet.has(channel)) return;
      let changes;
      try {
        changes = parseChanges(message);
      } catch (err) {
        this.listener?.lost(`unparsable change message: ${errorMessage(err)}`);
        return;
      }
      for (const change of changes) this.listener?.change(change);
    };
    // Through `this.listener`: after close() the connection's last events reach nobody.
    const lost = (reason: string) => () => this.listener?.lost(reason);
    if (isCluster(connection)) {
      connection.on('smessage', onMessage);
      connection.on('-node', lost('a cluster node left the subscriber'));
      connection.on('-subscriber', lost('a shard subscriber was replaced'));
    } else {
      connection.on('message', onMessage);
    }
    connection.on('close', lost('subscriber connection closed'));
    connection.on('end', lost('subscriber connection ended'));
    await this.resubscribe();
  }

  async resubscribe(): Promise<void> {
    const connection = this.connection;
    if (!connection) throw new FleetError('resubscribe before follow');
    const channels = (await this.shards()).map((keys) => keys.channel);
    this.channelSet = new Set(channels);
    try {
      // Subscribing to a channel already subscribed is a no-op, so this also confirms one that
      // ioredis resubscribed by itself after a reconnect.
      if (isCluster(connection)) await Promise.all(channels.map((c) => connection.ssubscribe(c)));
      else await connection.subscribe(...channels);
    } catch (err) {
      throw redisError('subscribe', err);
    }
  }

  async scan(onBatch: (states: VehicleState[]) => void): Promise<void> {
    for (const keys of await this.shards()) {
      let cursor = '0';
      do {
        let next: string;
        let flat: string[];
        try {
          [next, flat] = await this.client.hscan(keys.states, cursor, 'COUNT', SCAN_COUNT);
        } catch (err) {
          throw redisError('scan', err);
        }
        const states: VehicleState[] = [];
        for (let i = 1; i < flat.length; i += 2) {
          const state = parseState(flat[i]);
          if (state) states.push(state);
        }
        onBatch(states);
        cursor = next;
      } while (cursor !== '0');
    }
  }

  async close(): Promise<void> {
    this.listener = undefined;
    const connection = this.connection;
    this.connection = undefined;
    if (!connection) return;
    await connection.quit().catch((err: unknown) => {
      this.logger.debug({ err }, 'state feed quit failed; disconnecting');
      connection.disconnect();
    });
  }
}
