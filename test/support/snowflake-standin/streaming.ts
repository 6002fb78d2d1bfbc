import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { LoginError, verifyKeyPairToken, type StandinUser } from './auth.js';
import type { StandinEngine } from './engine.js';

/**
 * The Snowpipe Streaming REST endpoints of the stand-in (high-performance architecture, as
 * documented in "Snowpipe Streaming REST API endpoints"): hostname discovery and the scoped-token
 * exchange with the key-pair JWT, open channel, append rows (NDJSON, gzip), bulk channel status.
 * Rows land in the DuckDB table of the pipe (`<TABLE>-STREAMING`, the default pipe). Offset
 * tokens persist per channel; reopening bumps the channel's sequencer, so an older continuation
 * token is refused.
 */
export type StreamFault = 'invalidate' | 'lose-answer' | 'http-503' | 'hang';
/** Faults of the JWT endpoints: a 503 answer, or the connection dropped. */
export type AuthFault = 'http-503' | 'drop';
/** `hostname`: `GET /v2/streaming/hostname` (the client's login); `token`: `POST /oauth/token`. */
export type AuthRoute = 'hostname' | 'token';

interface StreamChannel {
  sequencer: number;
  rowSequencer: number;
  committed: string | null;
  /** Appended, not yet committed (commit happens `commitDelayMs` after the append). */
  pending: { offset: string; at: number }[];
  status: 'ACTIVE' | 'INVALIDATED';
  rowsInserted: number;
  /** Operations on the channel run one at a time (the server's sequencer): a reopen waits for an append in flight. */
  tail: Promise<unknown>;
}

export class StreamingEndpoints {
  /** Scoped tokens issued (token → expiry ms). */
  private readonly tokens = new Map<string, number>();
  private readonly channels = new Map<string, StreamChannel>();
  private faults: StreamFault[] = [];
  /** Requests per operation (hostname, token, open, append, status), and refused ones. */
  readonly counts = new Map<string, number>();
  /** Delay between an append and its commit (what status reports). @default 0 */
  commitDelayMs = 0;
  /** Lifetime of a scoped token. @default 1 hour */
  tokenTtlMs = 3_600_000;

  constructor(
    private readonly account: string,
    private readonly users: readonly StandinUser[],
    private readonly engine: StandinEngine,
    private readonly hostname: () => string,
  ) {}

  private down: { until: number; kind: StreamFault } | undefined;
  /** Outages of the JWT endpoints: hostname discovery (the login) or the scoped-token exchange. */
  private authDown: { until: number; kind: AuthFault; route: AuthRoute }[] = [];

  /** Every JWT-authenticated `route` request fails this way for `ms`. */
  failAuthFor(ms: number, route: AuthRoute, kind: AuthFault): void {
    this.authDown.push({ until: Date.now() + ms, kind, route });
  }

  /** Every scoped token issued so far is expired now (the client must exchange its JWT again). */
  expireTokens(): void {
    this.tokens.clear();
  }

  /** The next appends fail this way, one fault each. */
  failNextAppends(...faults: StreamFault[]): void {
    this.faults.push(...faults);
  }

  /** Every append fails this way for `ms` (an outage of the ingest host). */
  failAppendsFor(ms: number, kind: StreamFault): void {
    this.down = { until: Date.now() + ms, kind };
  }

  clearFaults(): void {
    this.faults = [];
    this.down = undefined;
    this.authDown = [];
  }

  /** Invalidates a channel now (as a table change or a competing client would). */
  invalidate(channel: string): void {
    const c = this.channels.get(channel.toUpperCase());
    if (c) c.status = 'INVALIDATED';
  }

  committedToken(channel: string): string | null {
    return this.channels.get(channel.toUpperCase())?.committed ?? null;
  }

  /** Handles the request if it is a streaming one; false otherwise. */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL, body: Buffer): Promise<boolean> {
    const route = `${req.method} ${url.pathname}`;
    const send = (status: number, answer: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer));
    };
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
    if (route === 'GET /v2/streaming/hostname' || route === 'POST /oauth/token') {
      const op: AuthRoute = route.startsWith('GET') ? 'hostname' : 'token';
      this.count(op);
      const now = Date.now();
      this.authDown = this.authDown.filter((d) => d.until > now);
      const fault = this.authDown.find((d) => d.route === op)?.kind;
      if (fault) this.count(`fault:${op}:${fault}`);
      if (fault === 'drop') return (req.socket.destroy(), true);
      if (fault === 'http-503') return (send(503, { message: 'service unavailable' }), true);
      if (!this.jwtValid(bearer)) return (send(401, { message: 'JWT token is invalid.' }), true);
      if (route.startsWith('GET')) return (send(200, { hostname: this.hostname() }), true);
      const form = new URLSearchParams(body.toString('utf8'));
      if (
        form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer' ||
        form.get('scope') !== this.hostname()
      )
        return (send(400, { message: 'invalid grant_type or scope' }), true);
      const token = randomBytes(24).toString('hex');
      this.tokens.set(token, Date.now() + this.tokenTtlMs);
      this.count('token-issued');
      return (send(200, { token }), true);
    }
    const m =
      /^\/v2\/streaming\/(data\/)?databases\/([^/]+)\/schemas\/([^/]+)\/pipes\/([^/:]+)(:bulk-channel-status|\/channels\/([^/]+)(\/rows)?)$/.exec(
        url.pathname,
      );
    if (!m) return false;
    if ((this.tokens.get(bearer) ?? 0) < Date.now()) {
      this.count('token-refused');
      return (send(401, { message: 'scoped token invalid or expired' }), true);
    }
    const pipe = decodeURIComponent(m[4]!).toUpperCase();
    const channelName = m[6] ? decodeURIComponent(m[6]).toUpperCase() : '';
    if (m[5] === ':bulk-channel-status' && req.method === 'POST') {
      this.count('status');
      const names = (JSON.parse(body.toString('utf8')) as { channel_names: string[] }).channel_names;
      const statuses: Record<string, unknown> = {};
      for (const n of names) {
        const c = this.channels.get(n.toUpperCase());
        if (c) statuses[n] = this.statusOf(n, c);
      }
      return (send(200, { channel_statuses: statuses }), true);
    }
    const known = this.channels.get(channelName);
    if (known) {
      // An append still running (e.g. its client gave up waiting) finishes before anything else.
      const turn = known.tail.then(() => this.channelOp(req, res, url, body, m, pipe, channelName, send));
      known.tail = turn.catch(() => undefined);
      return turn;
    }
    return this.channelOp(req, res, url, body, m, pipe, channelName, send);
  }

  private async channelOp(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    body: Buffer,
    m: RegExpExecArray,
    pipe: string,
    channelName: string,
    send: (status: number, answer: unknown) => void,
  ): Promise<boolean> {
    if (!m[7] && req.method === 'PUT') {
      this.count('open');
      const c = this.channels.get(channelName) ?? this.newChannel();
      this.settle(c);
      c.pending = []; // reopening discards what was not committed
      c.sequencer++;
      c.status = 'ACTIVE';
      this.channels.set(channelName, c);
      return (
        send(200, {
          next_continuation_token: `${c.sequencer}_${c.rowSequencer}`,
          channel_status: this.statusOf(channelName, c),
        }),
        true
      );
    }
    if (m[7] && req.method === 'POST') {
      this.count('append');
      const c = this.channels.get(channelName);
      const fault = this.down && this.down.until > Date.now() ? this.down.kind : this.faults.shift();
      if (fault) this.count(`fault:append:${fault}`);
      if (fault === 'hang') return true;
      if (fault === 'http-503') return (send(503, { message: 'service unavailable' }), true);
      if (fault === 'invalidate' && c) c.status = 'INVALIDATED';
      if (!c || c.status !== 'ACTIVE')
        return (
          send(409, { code: 'ERR_CHANNEL_INVALID', message: `channel ${channelName} is invalid: reopen it` }),
          true
        );
      if (url.searchParams.get('continuationToken') !== `${c.sequencer}_${c.rowSequencer}`)
        return (
          send(400, { code: 'STALE_CONTINUATION_TOKEN_SEQUENCER', message: 'stale continuation token' }),
          true
        );
      const raw = req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body;
      await this.insert(pipe, raw.toString('utf8'));
      c.rowSequencer++;
      c.pending.push({ offset: url.searchParams.get('endOffsetToken') ?? '', at: Date.now() });
      if (fault === 'lose-answer') return (void res.socket?.destroy(), true);
      return (send(200, { next_continuation_token: `${c.sequencer}_${c.rowSequencer}` }), true);
    }
    return false;
  }

  private jwtValid(token: string): boolean {
    const payload = JSON.parse(
      Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8') || '{}',
    ) as { sub?: string };
    const user = this.users.find((u) => `${this.account}.${u.name.toUpperCase()}` === payload.sub);
    try {
      if (!user) return false;
      verifyKeyPairToken(token, this.account, user);
      return true;
    } catch (err) {
      if (err instanceof LoginError) return false;
      throw err;
    }
  }

  /** NDJSON rows into the pipe's table: what the default pipe (MATCH_BY_COLUMN_NAME) does. */
  private async insert(pipe: string, ndjson: string): Promise<void> {
    const table = pipe.replace(/-STREAMING$/, '');
    const rows = ndjson
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as unknown);
    const v = (k: string) => `(value->>'${k}')`;
    await this.engine.query(
      `INSERT INTO ${table} (vehicle_id, ts, lat, lon, speed, heading, altitude, accuracy, battery, attributes,
         kafka_topic, kafka_topic_id, kafka_partition, kafka_offset, kafka_ts, ingested_at)
       SELECT ${v('VEHICLE_ID')}, CAST(${v('TS')} AS TIMESTAMPTZ), CAST(${v('LAT')} AS DOUBLE), CAST(${v('LON')} AS DOUBLE),
         CAST(${v('SPEED')} AS DOUBLE), CAST(${v('HEADING')} AS DOUBLE), CAST(${v('ALTITUDE')} AS DOUBLE),
         CAST(${v('ACCURACY')} AS DOUBLE), CAST(${v('BATTERY')} AS DOUBLE),
         CASE WHEN json_type(value->'ATTRIBUTES') = 'NULL' THEN NULL ELSE value->'ATTRIBUTES' END,
         ${v('KAFKA_TOPIC')}, ${v('KAFKA_TOPIC_ID')}, CAST(${v('KAFKA_PARTITION')} AS BIGINT), CAST(${v('KAFKA_OFFSET')} AS DECIMAL(20,0)),
         CAST(${v('KAFKA_TS')} AS TIMESTAMPTZ), CAST(${v('INGESTED_AT')} AS TIMESTAMPTZ)
       FROM (SELECT unnest(CAST(CAST($1 AS JSON) AS JSON[])) AS value)`,
      [JSON.stringify(rows)],
    );
  }

  private settle(c: StreamChannel): void {
    const now = Date.now();
    while (c.pending.length > 0 && now - c.pending[0]!.at >= this.commitDelayMs) {
      c.committed = c.pending.shift()!.offset;
      c.rowsInserted++;
    }
  }

  private statusOf(name: string, c: StreamChannel) {
    this.settle(c);
    return {
      channel_name: name,
      channel_status_code: c.status,
      last_committed_offset_token: c.committed,
      rows_inserted: c.rowsInserted,
      rows_error_count: 0,
    };
  }

  private newChannel(): StreamChannel {
    return {
      sequencer: 0,
      rowSequencer: 0,
      committed: null,
      pending: [],
      status: 'ACTIVE',
      rowsInserted: 0,
      tail: Promise.resolve(),
    };
  }

  private count(what: string): void {
    this.counts.set(what, (this.counts.get(what) ?? 0) + 1);
  }
}
