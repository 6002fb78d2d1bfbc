import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { StandinEngine, type Binding, type Privileges } from './engine.js';
import { FaultPlan, GS_FAULTS, type FaultFilter, type FaultKind } from './faults.js';
import { fail, ok, SnowflakeSqlError, type ResultData } from './result-format.js';
import { Sessions, type LoginAttempt, type Session, type StandinOptions } from './sessions.js';
import { StreamingEndpoints } from './streaming.js';

export type { LoginAttempt, StandinOptions };

/**
 * A wire-level Snowflake stand-in: a node:http server answering the endpoints the real
 * snowflake-sdk calls (login incl. key-pair JWT, query-request with binds, result polling,
 * heartbeat, token renewal, session delete, telemetry) in Snowflake's JSON format, executing the
 * SQL on an embedded DuckDB. The sink under test connects to it with `SNOWFLAKE_HOST=<url>`.
 */
export class SnowflakeStandin {
  readonly faults = new FaultPlan();
  readonly privileges: Privileges = { createTable: true, createTemporaryTable: true, write: true };
  /** Requests per endpoint (login, query, result, heartbeat, renew, delete), and `expired` answers. */
  readonly requests = new Map<string, number>();
  private readonly sessions: Sessions;
  /** The Snowpipe Streaming REST endpoints (same server: it is its own ingest host). */
  readonly streaming: StreamingEndpoints;
  private readonly pending = new Map<string, Promise<unknown>>();
  private readonly server = createServer((req, res) => void this.handle(req, res));

  private constructor(
    options: StandinOptions,
    readonly engine: StandinEngine,
  ) {
    this.sessions = new Sessions(options, engine, this.privileges);
    this.streaming = new StreamingEndpoints(
      this.sessions.account,
      options.users,
      engine,
      () => new URL(this.url).host,
    );
  }

  static async start(options: StandinOptions): Promise<SnowflakeStandin> {
    const standin = new SnowflakeStandin(options, await StandinEngine.create());
    await new Promise<void>((resolve) => standin.server.listen(0, '127.0.0.1', resolve));
    return standin;
  }

  /** Every matching query-request fails this way for `ms` (same as `faults.failFor`). */
  failFor(ms: number, kind: FaultKind, filter?: FaultFilter): void {
    this.faults.failFor(ms, kind, filter);
  }

  /** The next `count` matching query-requests fail this way (same as `faults.failNext`). */
  failNext(count: number, kind: FaultKind, filter?: FaultFilter): void {
    this.faults.failNext(count, kind, filter);
  }

  /** Expires every session token now (each session's next request answers 390112). */
  expireSessionTokens(): void {
    this.sessions.expireAll();
  }

  /** Base URL for `SNOWFLAKE_HOST`. */
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get accountName(): string {
    return this.sessions.account;
  }

  /** Every login attempt, accepted or refused, in order. */
  get logins(): readonly LoginAttempt[] {
    return this.sessions.logins;
  }

  /** Statements executed so far (kind, SQL, rows of array binds), in order. */
  get statements() {
    return this.engine.executed;
  }

  /** Live sessions (logged in, not deleted). */
  get sessionCount(): number {
    return this.sessions.size;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.sessions.closeAll();
    this.engine.close();
  }

  private count(endpoint: string): void {
    this.requests.set(endpoint, (this.requests.get(endpoint) ?? 0) + 1);
  }

  /** Answers a login or renewal fault as Snowflake (or the path to it) would; false: no fault. */
  private refused(
    fault: FaultKind | undefined,
    req: IncomingMessage,
    send: (answer: unknown, status?: number) => void,
  ): boolean {
    if (!fault) return false;
    if (fault === 'http-503' || fault === 'http-429')
      send({ message: 'unavailable' }, fault === 'http-503' ? 503 : 429);
    else if (fault === 'drop') req.socket.destroy();
    else if (fault !== 'hang') {
      const gs = GS_FAULTS[fault] ?? GS_FAULTS['internal-error']!;
      send(fail(gs.code, gs.message, { sqlState: gs.sqlState }));
    }
    return true;
  }

  /** Token renewals answered with a new token, and refused ones (master token unknown or expired). */
  get renewals(): { ok: number; refused: number } {
    return { ...this.sessions.renewals };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://standin');
      const raw = await readBody(req);
      if (await this.streaming.handle(req, res, url, raw)) return;
      const body = parseJson(raw);
      const send = (answer: unknown, status = 200) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer));
      };
      const route = `${req.method} ${url.pathname}`;
      if (route === 'POST /session/v1/login-request') {
        this.count('login');
        if (this.refused(this.faults.takeAt('login'), req, send)) return;
        return send(await this.sessions.login(url, body));
      }
      if (route === 'POST /telemetry/send') return send(ok({}));
      const auth = /Snowflake Token="([^"]*)"/.exec(req.headers.authorization ?? '')?.[1] ?? '';
      if (route === 'POST /session/token-request') {
        this.count('renew');
        if (this.refused(this.faults.takeAt('renew'), req, send)) return;
        return send(this.sessions.renew(auth, body));
      }
      const session = this.sessions.get(auth);
      if (!session) {
        const gone = GS_FAULTS['session-gone']!;
        return send(fail(gone.code, gone.message, { sqlState: gone.sqlState }));
      }
      // An expired session token: the driver renews it with the master token and resends.
      if (this.sessions.expired(session, auth)) {
        this.count('expired');
        const expired = GS_FAULTS['session-expired']!;
        return send(fail(expired.code, expired.message, { sqlState: expired.sqlState }));
      }
      if (route === 'POST /queries/v1/query-request')
        return await this.query(session, url, body, req, res, send);
      const result = /^GET \/queries\/([^/]+)\/result$/.exec(route);
      if (result) {
        this.count('result');
        return send(
          await (this.pending.get(result[1]!) ?? Promise.resolve(fail('000709', 'Query not found'))),
        );
      }
      if (route === 'POST /session/heartbeat') {
        this.count('heartbeat');
        if (this.faults.takeHeartbeat() === 'hang') return;
        return send(ok({}));
      }
      if (route === 'POST /session' && url.searchParams.get('delete') === 'true') {
        this.count('delete');
        this.sessions.delete(session);
        return send(ok(null));
      }
      if (route === 'POST /queries/v1/abort-request') return send(ok(null));
      send({ success: false, code: '404', message: `stand-in: no route ${route}`, data: null }, 404);
    } catch (err) {
      if (process.env.STANDIN_DEBUG) console.error('stand-in 500', err);
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ success: false, code: '500', message: String(err), data: null }));
    }
  }

  private async query(
    session: Session,
    url: URL,
    body: { sqlText?: string; bindings?: Record<string, Binding>; bindStage?: string },
    req: IncomingMessage,
    res: ServerResponse,
    send: (answer: unknown, status?: number) => void,
  ): Promise<void> {
    this.count('query');
    const sql = body.sqlText ?? '';
    const requestId = url.searchParams.get('requestId') ?? randomUUID();
    const stored = session.answers.get(requestId);
    if (stored) return send(stored);
    const fault = this.faults.take(sql);
    if (fault === 'http-503' || fault === 'http-429')
      return send({ message: 'unavailable' }, fault === 'http-503' ? 503 : 429);
    if (fault === 'drop') return void req.socket.destroy();
    // No answer at all, the socket left open: the driver waits its request timeout, then resends.
    if (fault === 'hang') return;
    const gs = fault ? GS_FAULTS[fault] : undefined;
    if (gs) return send(fail(gs.code, gs.message, { sqlState: gs.sqlState, queryId: randomUUID() }));
    const queryId = randomUUID();
    const run = session.tail.then(() => this.execute(session, queryId, sql, body));
    session.tail = run.catch(() => undefined);
    if (fault === 'in-progress') {
      this.pending.set(queryId, run);
      return send({
        data: { queryId, getResultUrl: `/queries/${queryId}/result` },
        code: '333333',
        message:
          'Asynchronous execution in progress. Use provided query id to perform query monitoring and management.',
        success: true,
      });
    }
    const answer = await run;
    session.answers.set(requestId, answer);
    if (session.answers.size > 1000) session.answers.delete(session.answers.keys().next().value!);
    if (fault === 'drop-after-execute') return void res.socket?.destroy();
    send(answer);
  }

  private async execute(
    session: Session,
    queryId: string,
    sql: string,
    body: { bindings?: Record<string, Binding>; bindStage?: string },
  ): Promise<unknown> {
    try {
      if (body.bindStage || /SYSTEM\$BIND/i.test(sql)) {
        throw new SnowflakeSqlError(
          '002140',
          '0A000',
          'stand-in: stage binding is not supported; keep array binds under CLIENT_STAGE_ARRAY_BINDING_THRESHOLD',
        );
      }
      const result: ResultData = await this.engine.execute(session.conn, session, sql, body.bindings);
      const { names } = session;
      return ok({
        ...result,
        parameters: [],
        total: result.rowset.length,
        returned: result.rowset.length,
        queryId,
        databaseProvider: null,
        finalDatabaseName: names.database,
        finalSchemaName: names.schema,
        finalWarehouseName: names.warehouse,
        finalRoleName: names.role,
        numberOfBinds: Object.keys(body.bindings ?? {}).length,
        arrayBindSupported: true,
        version: 1,
        sendResultTime: Date.now(),
        queryResultFormat: 'json',
      });
    } catch (err) {
      if (!(err instanceof SnowflakeSqlError)) throw err;
      return fail(err.code, err.message, { sqlState: err.sqlState, queryId, line: -1, pos: -1 });
    }
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The driver's request bodies are JSON, gzip-compressed when its compression won the race. */
function parseJson(body: Buffer): Record<string, never> {
  let raw = body;
  if (raw.length === 0) return {};
  if (raw[0] === 0x1f && raw[1] === 0x8b) raw = gunzipSync(raw);
  return JSON.parse(raw.toString('utf8')) as Record<string, never>;
}

export function startSnowflakeStandin(options: StandinOptions): Promise<SnowflakeStandin> {
  return SnowflakeStandin.start(options);
}
