import { createPrivateKey, randomUUID, sign } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { errorMessage, SinkError } from '../../errors.js';

/**
 * A client of Snowflake's Snowpipe Streaming REST API (high-performance architecture), as
 * documented at https://docs.snowflake.com/user-guide/snowpipe-streaming/snowpipe-streaming-high-performance-rest-api
 * (endpoints, payloads) and its cURL tutorial (key-pair JWT, ingest-host discovery):
 * - `GET  /v2/streaming/hostname` on the account URL, with the key-pair JWT: the ingest host;
 * - `POST /oauth/token` (form: grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer,
 *   scope=<ingest host>), with the JWT: a scoped token for the ingest host;
 * - `PUT  /v2/streaming/databases/{db}/schemas/{schema}/pipes/{pipe}/channels/{channel}`: open a
 *   channel: `next_continuation_token` and `channel_status.last_committed_offset_token`;
 * - `POST /v2/streaming/data/databases/.../channels/{channel}/rows?continuationToken=&startOffsetToken=&endOffsetToken=`:
 *   NDJSON rows (gzip; at most 4 MB as sent), answers `next_continuation_token`;
 * - `POST /v2/streaming/databases/.../pipes/{pipe}:bulk-channel-status` `{channel_names}`: the
 *   committed offset token per channel.
 */
export interface StreamingClientOptions {
  /** The account URL (https://<account>.snowflakecomputing.com, or SNOWFLAKE_HOST). */
  accountUrl: string;
  account: string;
  user: string;
  /** Decrypted PKCS#8 PEM and its RSA_PUBLIC_KEY_FP. */
  privateKeyPem: string;
  fingerprint: string;
  /** Deadline of every request (ms). */
  deadlineMs: number;
  /** Scoped tokens are renewed this long after issue (their lifetime is not documented). @default 30 min */
  tokenRefreshMs?: number;
}

export interface ChannelStatus {
  channel_status_code?: string;
  last_committed_offset_token?: string | null;
  rows_error_count?: number;
  last_error_message?: string | null;
}

/** A streaming failure: `invalidated` means the channel must be reopened before appending again. */
export class StreamingError extends SinkError {
  constructor(
    message: string,
    readonly status: number | undefined,
    retriable: boolean,
    readonly invalidated = false,
    options: { cause?: unknown } = {},
  ) {
    super('snowflake', message, { retriable, ...options });
  }
}

export class StreamingClient {
  private ingestBase: string | undefined;
  private scoped: { token: string; at: number } | undefined;

  constructor(private readonly options: StreamingClientOptions) {}

  /** The key-pair JWT (RS256, iss ACCOUNT.USER.SHA256:fp, sub ACCOUNT.USER, one hour). */
  jwt(now = Date.now()): string {
    const account = this.options.account.toUpperCase().replace(/\./g, '-');
    const sub = `${account}.${this.options.user.toUpperCase()}`;
    const iat = Math.floor(now / 1000);
    const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const body = `${enc({ alg: 'RS256', typ: 'JWT' })}.${enc({ iss: `${sub}.${this.options.fingerprint}`, sub, iat, exp: iat + 3600 })}`;
    const signature = sign('RSA-SHA256', Buffer.from(body), createPrivateKey(this.options.privateKeyPem));
    return `${body}.${signature.toString('base64url')}`;
  }

  /** Discovers the ingest host and gets a scoped token (renewed when old or refused). */
  async token(force = false): Promise<{ base: string; token: string }> {
    const refresh = this.options.tokenRefreshMs ?? 30 * 60_000;
    if (!force && this.scoped && this.ingestBase && Date.now() - this.scoped.at < refresh) {
      return { base: this.ingestBase, token: this.scoped.token };
    }
    const jwt = {
      authorization: `Bearer ${this.jwt()}`,
      'x-snowflake-authorization-token-type': 'KEYPAIR_JWT',
    };
    const account = new URL(this.options.accountUrl);
    const hostText = await this.call('GET', `${account.origin}/v2/streaming/hostname`, jwt);
    // Documented as {"hostname": ...}; the tutorial reads a bare body. Underscores break TLS
    // (documented known issue): dashes instead.
    const host = parsed(hostText, 'hostname').replace(/_/g, '-');
    const form = new URLSearchParams({
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      scope: host,
    });
    const tokenText = await this.call(
      'POST',
      `${account.origin}/oauth/token`,
      {
        ...jwt,
        'content-type': 'application/x-www-form-urlencoded',
      },
      form.toString(),
    );
    this.ingestBase = `${account.protocol}//${host}`;
    this.scoped = { token: parsed(tokenText, 'token'), at: Date.now() };
    return { base: this.ingestBase, token: this.scoped.token };
  }

  async openChannel(
    path: PipePath,
    channel: string,
  ): Promise<{ continuation: string; status: ChannelStatus }> {
    const url = `/v2/streaming/${path.base}/channels/${encodeURIComponent(channel)}`;
    const answer = JSON.parse(await this.ingest('PUT', url, '{}')) as {
      next_continuation_token: string;
      channel_status?: ChannelStatus;
    };
    return { continuation: answer.next_continuation_token, status: answer.channel_status ?? {} };
  }

  /** Appends NDJSON rows (gzip-compressed here); returns the next continuation token. */
  async appendRows(
    path: PipePath,
    channel: string,
    continuation: string,
    ndjson: string,
    offsets: { start: string; end: string },
  ): Promise<string> {
    const query = new URLSearchParams({
      continuationToken: continuation,
      startOffsetToken: offsets.start,
      endOffsetToken: offsets.end,
      requestId: randomUUID(),
    });
    const url = `/v2/streaming/data/${path.base}/channels/${encodeURIComponent(channel)}/rows?${query}`;
    const answer = await this.ingest('POST', url, gzipSync(ndjson), {
      'content-type': 'application/x-ndjson',
      'content-encoding': 'gzip',
    });
    return (JSON.parse(answer) as { next_continuation_token: string }).next_continuation_token;
  }

  async status(path: PipePath, channels: string[]): Promise<Record<string, ChannelStatus>> {
    const url = `/v2/streaming/${path.base}:bulk-channel-status`;
    const answer = await this.ingest('POST', url, JSON.stringify({ channel_names: channels }));
    return (
      (JSON.parse(answer) as { channel_statuses?: Record<string, ChannelStatus> }).channel_statuses ?? {}
    );
  }

  /** A call on the ingest host with the scoped token; a refused token is renewed once. */
  private async ingest(
    method: string,
    path: string,
    body: string | Buffer,
    headers: Record<string, string> = { 'content-type': 'application/json' },
  ): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      const { base, token } = await this.token(attempt > 0);
      try {
        return await this.call(
          method,
          `${base}${path}`,
          { ...headers, authorization: `Bearer ${token}` },
          body,
        );
      } catch (err) {
        if (attempt === 0 && err instanceof StreamingError && err.status === 401) continue;
        throw err;
      }
    }
  }

  private async call(
    method: string,
    url: string,
    headers: Record<string, string>,
    body?: string | Buffer,
  ): Promise<string> {
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
        signal: AbortSignal.timeout(this.options.deadlineMs),
      });
    } catch (err) {
      // Network trouble or the deadline: the answer may be lost after the server acted on it.
      const what =
        (err as Error).name === 'TimeoutError'
          ? `no answer within ${this.options.deadlineMs} ms`
          : errorMessage(err);
      throw new StreamingError(`${method} ${new URL(url).pathname} failed: ${what}`, undefined, true, true, {
        cause: err,
      });
    }
    const text = await res.text();
    if (res.ok) return text;
    const s = res.status;
    // 409: the channel was invalidated or reopened elsewhere (documented for open/drop; the SDKs
    // reopen on it); 400 on rows: a stale continuation token — both mean reopen and resend.
    const invalidated = s === 409 || (s === 400 && /continuation|sequencer|invalid.*channel/i.test(text));
    const retriable = invalidated || s === 401 || s === 408 || s === 429 || s >= 500;
    throw new StreamingError(
      `${method} ${new URL(url).pathname} failed [HTTP ${s}]: ${text.slice(0, 300)}`,
      s,
      retriable,
      invalidated,
    );
  }
}

/** `databases/{db}/schemas/{schema}/pipes/{pipe}`, URI-encoded. */
export interface PipePath {
  base: string;
}

export function pipePath(database: string, schema: string, pipe: string): PipePath {
  const e = encodeURIComponent;
  return { base: `databases/${e(database)}/schemas/${e(schema)}/pipes/${e(pipe)}` };
}

function parsed(text: string, field: string): string {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    const value = (JSON.parse(trimmed) as Record<string, unknown>)[field];
    if (typeof value === 'string') return value;
    throw new StreamingError(`answer without ${field}: ${trimmed.slice(0, 200)}`, 200, false);
  }
  return trimmed;
}
