import type { PositionRecord } from '../domain/records.js';
import { retry, sleep } from '../retry.js';
import { loadPrivateKey } from './snowflake/connection.js';
import { SnowflakeBase, type SnowflakeAdapterOptions } from './snowflake/snowflake-base.js';
import { accessUrl } from './snowflake/connection.js';
import { pipePath, StreamingClient, StreamingError, type PipePath } from './snowflake/streaming-client.js';
import { NOTHING_WRITTEN, type PartitionOffset, type WriteResult } from './warehouse-sink.js';
import { ConfigError } from '../errors.js';
import { uniqueRecords } from './warehouse-sql.js';

export interface SnowpipeStreamingOptions extends SnowflakeAdapterOptions {
  /** How often a write asks whether its rows are committed (ms). @default 250 */
  commitPollMs?: number;
  /** Uncompressed NDJSON bytes per append (the API takes at most 4 MB as sent). @default 4_000_000 */
  maxAppendBytes?: number;
}

interface Channel {
  name: string;
  continuation: string;
  /** Last offset known committed (or appended on this continuation), as BigInt; null: none yet. */
  last: bigint | null;
  /** An append failed or the channel was invalidated: reopen (and re-read the committed token). */
  stale: boolean;
}

/**
 * The Snowpipe Streaming write mode (SNOWFLAKE_INGEST=streaming): no warehouse runs for ingest.
 * One channel per (topic, topic id, partition), named `<topic>-<topic id>-<partition>` (a
 * re-created topic gets new channels, as its offsets restart); the Kafka offset is the channel's
 * offset token. Append-only, so the offset token replaces the MERGE's deduplication of records: a
 * record at or below the channel's last offset is a duplicate and not sent again. Positions
 * repeated at other offsets (device retries) are dropped within a batch; across batches they reach
 * the table, and reads deduplicate (the view in docs/snowflake.md). A write appends
 * NDJSON (gzip) per channel, then resolves only once `bulk-channel-status` reports its last
 * offset committed — so the processor commits Kafka offsets only for committed rows. A failed or
 * unanswered append, or an invalidated channel, marks the channel stale: the next attempt reopens
 * it, which discards uncommitted rows server-side and returns the committed token to resume from.
 * Reads (history, summary, count) and the start-up check go through SQL sessions as in the MERGE
 * mode.
 */
export class SnowpipeStreamingWarehouse extends SnowflakeBase {
  private readonly client: StreamingClient;
  private readonly path: PipePath;
  private readonly channels = new Map<string, Channel>();
  private readonly pollMs: number;
  private readonly maxAppendBytes: number;

  constructor(private readonly settings: SnowpipeStreamingOptions) {
    super(settings, 'streaming');
    this.readTable = { name: this.table, dedupePositions: true };
    const { config } = settings;
    if (config.auth.kind !== 'key-pair') {
      throw new ConfigError('SNOWFLAKE_INGEST', 'streaming needs key-pair auth (SNOWFLAKE_PRIVATE_KEY_PATH)');
    }
    const key = loadPrivateKey(config.auth);
    this.client = new StreamingClient({
      accountUrl: accessUrl(config),
      account: config.account,
      user: config.user,
      privateKeyPem: key.pem,
      fingerprint: key.fingerprint,
      deadlineMs: this.sessions.deadlineMs,
    });
    this.path = pipePath(
      config.database,
      config.schema,
      config.pipe ?? `${this.table.toUpperCase()}-STREAMING`,
    );
    this.pollMs = settings.commitPollMs ?? 250;
    this.maxAppendBytes = settings.maxAppendBytes ?? 4_000_000;
  }

  async ready(): Promise<void> {
    if (this.sessions.isOpen) return;
    const check = await this.sessions.open();
    await this.client.token();
    this.logger.info({ ...check, pipe: this.path.base, table: this.table }, 'snowpipe streaming ready');
  }

  /** Where each partition should resume: one past its channel's committed offset token. */
  async committedOffsets(
    source: { topic: string; topicId: string },
    partitions: readonly number[],
  ): Promise<PartitionOffset[]> {
    const out: PartitionOffset[] = [];
    for (const partition of partitions) {
      const channel = await this.channel(channelName(source.topic, source.topicId, partition));
      if (channel.last !== null) out.push({ partition, offset: String(channel.last + 1n) });
    }
    return out;
  }

  write(batch: readonly PositionRecord[]): Promise<WriteResult> {
    if (batch.length === 0) return Promise.resolve(NOTHING_WRITTEN);
    return this.guard.serial(async () => {
      const lanes = new Map<string, PositionRecord[]>();
      const { records, positionDuplicates } = uniqueRecords(batch);
      for (const r of records) {
        const key = channelName(r.topic, r.topicId, r.partition);
        const lane = lanes.get(key) ?? [];
        lane.push(r);
        lanes.set(key, lane);
      }
      // Transient failures (a reset keep-alive socket, a 503, an invalidated channel) retry here
      // a few times — each attempt reopens a stale channel first — before surfacing as retriable.
      const lane = (name: string, rows: PositionRecord[]) =>
        retry(() => this.writeLane(name, rows), {
          retries: 2,
          initialMs: 250,
          maxMs: 5_000,
          ...this.settings.retry,
        });
      const counts = await Promise.all([...lanes.entries()].map(([name, rows]) => lane(name, rows)));
      const inserted = counts.reduce((a, b) => a + b, 0);
      return { inserted, duplicates: batch.length - inserted, positionDuplicates };
    });
  }

  private async writeLane(name: string, rows: PositionRecord[]): Promise<number> {
    rows.sort((a, b) => (BigInt(a.offset) < BigInt(b.offset) ? -1 : 1));
    const what = `stream of ${rows.length} records to channel ${name}`;
    try {
      const channel = await this.channel(name);
      const fresh = rows.filter((r) => channel.last === null || BigInt(r.offset) > channel.last);
      if (fresh.length === 0) return 0;
      for (const part of this.parts(fresh)) {
        channel.stale = true; // until the answer arrives: a lost answer means "unknown, reopen"
        channel.continuation = await this.client.appendRows(
          this.path,
          channel.name,
          channel.continuation,
          part.ndjson,
          {
            start: part.first,
            end: part.last,
          },
        );
        channel.stale = false;
        channel.last = BigInt(part.last);
      }
      await this.committed(channel, BigInt(fresh.at(-1)!.offset));
      return fresh.length;
    } catch (err) {
      if (!(err instanceof StreamingError)) throw err;
      if (err.invalidated) this.channels.get(name)!.stale = true;
      const c = {
        failure: err.retriable ? ('transient' as const) : ('fatal' as const),
        code: String(err.status ?? 'network'),
        message: err.message,
      };
      throw this.sessions.failed(what, c, err, true);
    }
  }

  /** The open channel of that name, reopened when stale. */
  private async channel(name: string): Promise<Channel> {
    const known = this.channels.get(name);
    if (known && !known.stale) return known;
    const opened = await this.client.openChannel(this.path, name);
    const token = opened.status.last_committed_offset_token;
    const channel: Channel = {
      name,
      continuation: opened.continuation,
      last: token ? BigInt(token) : null,
      stale: false,
    };
    this.channels.set(name, channel);
    if (known)
      this.logger.warn(
        { channel: name, committed: token },
        'channel reopened: resuming after its committed offset',
      );
    return channel;
  }

  /** Waits until the channel reports `offset` committed (or the deadline passes: retriable). */
  private async committed(channel: Channel, offset: bigint): Promise<void> {
    const until = Date.now() + this.sessions.deadlineMs;
    for (;;) {
      const status = (await this.client.status(this.path, [channel.name]))[channel.name];
      if (!status || (status.channel_status_code && status.channel_status_code !== 'ACTIVE')) {
        channel.stale = true;
        throw new StreamingError(
          `channel ${channel.name} is ${status?.channel_status_code ?? 'gone'}`,
          409,
          true,
          true,
        );
      }
      const token = status.last_committed_offset_token;
      if (token && BigInt(token) >= offset) return;
      if (Date.now() > until) {
        channel.stale = true;
        throw new StreamingError(
          `channel ${channel.name}: offset ${offset} not committed within ${this.sessions.deadlineMs} ms`,
          undefined,
          true,
          true,
        );
      }
      await sleep(this.pollMs);
    }
  }

  /** NDJSON parts of at most `maxAppendBytes`, with their first and last offsets. */
  private parts(rows: PositionRecord[]): { ndjson: string; first: string; last: string }[] {
    const parts: { ndjson: string; first: string; last: string }[] = [];
    let start = 0;
    let lines: string[] = [];
    let bytes = 0;
    const flush = (end: number) => {
      parts.push({ ndjson: `${lines.join('\n')}\n`, first: rows[start]!.offset, last: rows[end]!.offset });
      lines = [];
      bytes = 0;
      start = end + 1;
    };
    rows.forEach((r, i) => {
      const line = JSON.stringify(streamRow(r));
      const size = Buffer.byteLength(line) + 1;
      if (lines.length > 0 && bytes + size > this.maxAppendBytes) flush(i - 1);
      lines.push(line);
      bytes += size;
    });
    flush(rows.length - 1);
    return parts;
  }
}

/** The channel of one partition of one incarnation of a topic. */
function channelName(topic: string, topicId: string, partition: number): string {
  return `${topic}-${topicId}-${partition}`;
}

/** One row as the pipe reads it (column names as the table's, upper case; times as ISO UTC). */
function streamRow(r: PositionRecord): Record<string, unknown> {
  const p = r.position;
  return {
    VEHICLE_ID: p.vehicleId,
    TS: new Date(p.ts).toISOString(),
    LAT: p.lat,
    LON: p.lon,
    SPEED: p.speed ?? null,
    HEADING: p.heading ?? null,
    ALTITUDE: p.altitude ?? null,
    ACCURACY: p.accuracy ?? null,
    BATTERY: p.battery ?? null,
    ATTRIBUTES: p.attributes ?? null,
    KAFKA_TOPIC: r.topic,
    KAFKA_TOPIC_ID: r.topicId,
    KAFKA_PARTITION: r.partition,
    KAFKA_OFFSET: r.offset,
    KAFKA_TS: new Date(Math.trunc(r.kafkaTs)).toISOString(),
    // The REST API fills no column defaults we could rely on: the processor's clock.
    INGESTED_AT: new Date().toISOString(),
  };
}
