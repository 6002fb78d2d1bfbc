import type { Registry } from 'prom-client';
import snowflake from 'snowflake-sdk';
import type { SnowflakeConfig } from '../../config/config.js';
import { ConfigError, FleetError, SinkError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { counter, defaultRegistry } from '../../metrics.js';
import { retry, type RetryOptions } from '../../retry.js';
import type { SinkGuard } from '../sink-guard.js';
import {
  configureDriverLogging,
  connectionOptions,
  execute,
  sessionSettingsSql,
  withDeadline,
  type Connection,
  type ConnectionOptions,
  type DriverOptions,
  type Executed,
} from './connection.js';
import { classifySnowflakeError, toSinkError, type Classified } from './errors.js';
import { checkAccount, type AccountCheck } from './startup.js';

export interface SessionsOptions {
  config: SnowflakeConfig;
  table: string;
  logger: Logger;
  guard: SinkGuard;
  /** Sessions kept for writes and reads. @default 4 */
  poolSize?: number;
  /** Client-side deadline of every statement and borrow (ms). @default 120_000 */
  statementTimeoutMs?: number;
  retry?: RetryOptions;
  driver?: DriverOptions;
  /** @default defaultRegistry */
  registry?: Registry;
}

/**
 * Messages of login failures: the pool rejects with `new Error(err.message)` (snowflake-sdk
 * core.js, ConnectionFactory.create), so the code is gone. Network-policy refusals are matched
 * by the classifier itself.
 */
const LOGIN_REJECTED =
  /Incorrect username or password|JWT token is invalid|not granted to this user|locked|disabled/i;

/**
 * The SQL side of the Snowflake adapters: the start-up check, a pool of sessions validated on
 * borrow, a client-side deadline on every statement and borrow, failure classification with
 * retries, and the fatal latch. Both write modes (MERGE and Snowpipe Streaming) read through it.
 */
export class SnowflakeSessions {
  readonly options: ConnectionOptions;
  readonly fingerprint: string | undefined;
  readonly deadlineMs: number;
  private readonly prepared = new WeakSet<Connection>();
  private readonly suspensions;
  private pool: ReturnType<typeof snowflake.createPool> | undefined;

  constructor(private readonly settings: SessionsOptions) {
    this.deadlineMs = settings.statementTimeoutMs ?? 120_000;
    // Each HTTP request ends by the deadline too: a heartbeat (the pool's borrow validation) that
    // hangs would otherwise hold its pooled session "in test" for the driver's 90 s, and
    // generic-pool counts it as allocable, so waiting borrows neither create nor test another.
    // Long statements are unaffected: the server answers "in progress" and the driver polls.
    const requestTimeoutMs = Math.min(settings.driver?.requestTimeoutMs ?? 90_000, this.deadlineMs);
    const built = connectionOptions(settings.config, { ...settings.driver, requestTimeoutMs });
    this.options = built.options;
    this.fingerprint = built.fingerprint;
    this.suspensions = counter(settings.registry ?? defaultRegistry, {
      name: 'fleet_snowflake_resource_monitor_suspensions_total',
      help: 'Snowflake failures because a resource monitor suspended the warehouse (retried; needs an administrator)',
    });
    configureDriverLogging(settings.logger);
    try {
      // Validates the options the driver's way (account format, key shape) without connecting.
      snowflake.createConnection({ ...this.options });
    } catch (err) {
      throw new ConfigError(
        'SNOWFLAKE_ACCOUNT',
        `the Snowflake driver refuses the settings: ${(err as Error).message}`,
      );
    }
  }

  get isOpen(): boolean {
    return this.pool !== undefined;
  }

  /** The start-up check (see {@link checkAccount}), then the pool. */
  async open(stage?: string): Promise<AccountCheck> {
    // A warehouse that is suspended or resuming, or a network hiccup, at start is not a reason to
    // exit: retry the check (about two minutes by default, `startupRetries`). Refused logins and missing objects or grants
    // (ConfigErrors, fatal classifications) fail at once, naming what to fix.
    const check = await retry(
      () =>
        checkAccount(this.options, this.settings.config, this.settings.table, {
          deadlineMs: this.deadlineMs,
          ...(stage ? { stage } : {}),
          ...(this.fingerprint ? { fingerprint: this.fingerprint } : {}),
        }),
      {
        retries: this.settings.driver?.startupRetries ?? 24,
        initialMs: 500,
        maxMs: 5000,
        shouldRetry: (err) =>
          err instanceof FleetError
            ? err.retriable
            : ['transient', 'reconnect'].includes(classifySnowflakeError(err).failure),
        onRetry: ({ attempt, delayMs, error }) =>
          this.settings.logger.warn(
            { attempt, delayMs, err: error },
            'snowflake start-up check failed: retrying',
          ),
      },
    );
    this.pool = snowflake.createPool(this.options, {
      max: this.settings.poolSize ?? 4,
      min: 0,
      // A borrowed session is checked with the driver's validator (Connection.isValidAsync: isUp()
      // and a /session/heartbeat round trip), so a session the server dropped is replaced before
      // a statement fails on it. Cost: one heartbeat per borrow (~1 RTT; see docs/snowflake.md).
      testOnBorrow: true,
      acquireTimeoutMillis: this.deadlineMs,
      idleTimeoutMillis: 600_000,
      evictionRunIntervalMillis: 60_000,
    });
    return check;
  }

  run(conn: Connection, sql: string, binds?: readonly unknown[]): Promise<Executed> {
    return execute(conn, sql, binds as snowflake.Binds | undefined, this.deadlineMs);
  }

  /** One statement on a pooled session (reads); failures are classified, never latched. */
  query(what: string, sql: string, binds?: readonly unknown[]): Promise<Executed> {
    return this.withConnection(what, (conn) => this.run(conn, sql, binds));
  }

  /** Transient failures retry here (a few times, with backoff) before surfacing as retriable. */
  withRetry<T>(what: string, fn: (conn: Connection) => Promise<T>): Promise<T> {
    return retry(() => this.withConnection(what, fn, true), {
      retries: 2,
      initialMs: 250,
      maxMs: 5_000,
      ...this.settings.retry,
      onRetry: ({ attempt, delayMs, error }) =>
        this.settings.logger.warn({ attempt, delayMs, err: error }, `${what}: retrying`),
    });
  }

  /** Runs `fn` on a pooled session; drops the session when it is dead, latches fatal failures. */
  async withConnection<T>(what: string, fn: (conn: Connection) => Promise<T>, latch = false): Promise<T> {
    const pool = this.pool;
    if (!pool) throw new SinkError('snowflake', `${what} before ready()`);
    let conn: Connection;
    try {
      // generic-pool stops waiting at acquireTimeoutMillis; this also bounds a hung validation.
      conn = await withDeadline(pool.acquire(), this.deadlineMs + 1000, () => undefined);
    } catch (err) {
      throw this.failed(what, loginFailure(err), err, latch);
    }
    try {
      if (!this.prepared.has(conn)) {
        await this.run(conn, sessionSettingsSql(this.deadlineMs));
        this.prepared.add(conn);
      }
      const result = await fn(conn);
      await pool.release(conn);
      return result;
    } catch (err) {
      const c = classifySnowflakeError(err);
      // Not awaited: logging out of a server that stopped answering would block as long as the
      // statement did. The session is out of the pool either way.
      if (c.failure === 'reconnect' || c.failure === 'transient') pool.destroy(conn).catch(() => undefined);
      else await pool.release(conn).catch(() => undefined);
      throw this.failed(what, c, err, latch);
    }
  }

  /** A classified failure as the port's SinkError: logged, counted, latched when fatal. */
  failed(what: string, c: Classified, cause: unknown, latch: boolean): SinkError {
    const error = toSinkError(what, c, cause);
    const log = this.settings.logger;
    if (c.resourceMonitor) {
      this.suspensions.inc();
      log.error(
        { err: error, code: c.code, event: 'snowflake.resource_monitor' },
        `${what}: a Snowflake resource monitor suspended the warehouse — writes retry, but an administrator must raise the quota`,
      );
    } else if (c.failure === 'fatal' && latch) {
      this.settings.guard.latch(error);
      log.error({ err: error, code: c.code }, `${what}: fatal Snowflake failure, writes stop`);
    } else {
      log.warn({ err: error, code: c.code, failure: c.failure }, `${what} failed`);
    }
    return error;
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    if (pool) {
      await pool.drain();
      await pool.clear();
    }
  }
}

function loginFailure(err: unknown): Classified {
  const message = (err as Error).message;
  const byMessage = classifySnowflakeError(new Error(message));
  if (byMessage.failure === 'fatal' && byMessage.hint) return byMessage;
  return { failure: LOGIN_REJECTED.test(message) ? 'fatal' : 'transient', code: 'login', message };
}
