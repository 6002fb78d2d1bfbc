import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import snowflake from 'snowflake-sdk';
import type { SnowflakeConfig } from '../../config/config.js';
import { ConfigError, errorMessage } from '../../errors.js';
import type { Logger } from '../../logger.js';

export type Connection = snowflake.Connection;
export type ConnectionOptions = snowflake.ConnectionOptions;

/** Knobs of the driver itself; production keeps the defaults, tests shorten them. */
export interface DriverOptions {
  /** Login attempts after the first on network trouble (driver backoff 1 s, 2 s, 4 s...). @default 3 */
  loginRetries?: number;
  /** Per-request HTTP timeout. @default 90_000 (ms) */
  requestTimeoutMs?: number;
  /**
   * Start-up check attempts after the first on transient failures (unreachable host, suspended
   * warehouse), 0.5 s doubling to 5 s apart: about two minutes. @default 24
   */
  startupRetries?: number;
}

/** The account's HTTPS endpoint, or the SNOWFLAKE_HOST override (a host, or a full URL). */
export function accessUrl(config: SnowflakeConfig): string {
  const host = config.host;
  if (!host) return `https://${config.account}.snowflakecomputing.com`;
  return /^https?:\/\//i.test(host) ? host.replace(/\/+$/, '') : `https://${host}`;
}

/**
 * Loads and checks the private key up front, so a missing file, a non-key or a wrong passphrase
 * fails at start naming the variable, before any login attempt. Returns the key decrypted, as the
 * driver wants it, plus the public-key fingerprint Snowflake shows as RSA_PUBLIC_KEY_FP.
 */
export function loadPrivateKey(auth: Extract<SnowflakeConfig['auth'], { kind: 'key-pair' }>): {
  pem: string;
  fingerprint: string;
} {
  const variable = auth.privateKeyPath ? 'SNOWFLAKE_PRIVATE_KEY_PATH' : 'SNOWFLAKE_PRIVATE_KEY';
  let material: string;
  if (auth.privateKeyPath) {
    try {
      material = readFileSync(auth.privateKeyPath, 'utf8');
    } catch (err) {
      throw new ConfigError(
        variable,
        `cannot read the private key file ${auth.privateKeyPath}: ${errorMessage(err)}`,
      );
    }
  } else {
    // PEM in an env variable often arrives with literal "\n" instead of line breaks.
    material = (auth.privateKey ?? '').includes('\n')
      ? auth.privateKey!
      : (auth.privateKey ?? '').replace(/\\n/g, '\n');
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({
      key: material,
      format: 'pem',
      ...(auth.passphrase ? { passphrase: auth.passphrase } : {}),
    });
  } catch (err) {
    const encrypted = /ENCRYPTED/.test(material);
    const hint = encrypted
      ? auth.passphrase
        ? 'wrong SNOWFLAKE_PRIVATE_KEY_PASSPHRASE?'
        : 'the key is encrypted: set SNOWFLAKE_PRIVATE_KEY_PASSPHRASE'
      : 'expected a PEM private key (openssl genrsa 2048 | openssl pkcs8 -topk8 -v2 aes256 -out rsa_key.p8)';
    throw new ConfigError(variable, `not a usable private key (${errorMessage(err)}): ${hint}`);
  }
  if (key.asymmetricKeyType !== 'rsa') {
    throw new ConfigError(variable, `Snowflake key-pair auth needs an RSA key, got ${key.asymmetricKeyType}`);
  }
  const der = createPublicKey(key).export({ type: 'spki', format: 'der' });
  return {
    pem: key.export({ type: 'pkcs8', format: 'pem' }).toString(),
    fingerprint: `SHA256:${createHash('sha256').update(der).digest('base64')}`,
  };
}

const ACCOUNT = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** Driver connection options from the compiled config; throws ConfigError on unusable values. */
export function connectionOptions(
  config: SnowflakeConfig,
  driver: DriverOptions = {},
): { options: ConnectionOptions; fingerprint?: string } {
  if (!ACCOUNT.test(config.account)) {
    throw new ConfigError(
      'SNOWFLAKE_ACCOUNT',
      `'${config.account}' is not an account identifier (orgname-accountname)`,
    );
  }
  const base: ConnectionOptions = {
    account: config.account,
    username: config.user,
    database: config.database,
    schema: config.schema,
    ...(config.warehouse ? { warehouse: config.warehouse } : {}),
    ...(config.role ? { role: config.role } : {}),
    accessUrl: accessUrl(config),
    application: 'fleet-tracker',
    // Sessions otherwise expire after ~4 h idle; the driver heartbeats instead.
    clientSessionKeepAlive: true,
    sfRetryMaxLoginRetries: driver.loginRetries ?? 3,
    timeout: driver.requestTimeoutMs ?? 90_000,
  };
  if (config.auth.kind === 'password') {
    return { options: { ...base, authenticator: 'SNOWFLAKE', password: config.auth.password } };
  }
  const key = loadPrivateKey(config.auth);
  return {
    options: { ...base, authenticator: 'SNOWFLAKE_JWT', privateKey: key.pem },
    fingerprint: key.fingerprint,
  };
}

let driverLogging = false;

/** Routes the driver's own log (a file in the working directory by default) into ours. */
export function configureDriverLogging(logger: Logger): void {
  if (driverLogging) return;
  driverLogging = true;
  const log = logger.child({ driver: 'snowflake-sdk' });
  snowflake.configure({
    logLevel: 'WARN',
    customLogger: {
      // The sink reports failures itself, with context; the driver's own errors are detail.
      error: (m) => log.warn(m),
      warn: (m) => log.warn(m),
      info: (m) => log.info(m),
      debug: (m) => log.debug(m),
      trace: (m) => log.trace(m),
    },
  });
}

/** Opens one session (login). Rejects with the driver's error, code and all. */
export async function connect(options: ConnectionOptions): Promise<Connection> {
  const conn = snowflake.createConnection(options);
  await new Promise<void>((resolve, reject) => {
    conn.connect((err) => (err ? reject(err) : resolve()));
  });
  return conn;
}

export function destroy(conn: Connection): Promise<void> {
  return new Promise((resolve) => conn.destroy(() => resolve()));
}

export interface Executed {
  rows: unknown[][];
  /** Column names as the server returned them. */
  columns: string[];
}

/** Thrown when a statement outlives its client-side deadline (classified retriable). */
export class StatementDeadlineError extends Error {
  readonly code = 'DEADLINE';
  constructor(readonly ms: number) {
    super(`no answer within the statement deadline of ${ms} ms (statement canceled, session dropped)`);
    this.name = 'StatementDeadlineError';
  }
}

/**
 * Runs one statement; rows come back as arrays (position-based, case-proof).
 *
 * `deadlineMs` bounds the whole call. The driver retries a query request up to
 * `sfRetryMaxNumRetries` = 1000 times (connection_config.js; not an external option), sleeping up
 * to 16 s between attempts, each attempt up to the request `timeout` (90 s): during a network
 * outage one statement can block for hours. At the deadline the statement is canceled (best
 * effort), the session destroyed (its request loop ends with it) and the call rejects with a
 * {@link StatementDeadlineError}.
 */
export function execute(
  conn: Connection,
  sqlText: string,
  binds?: snowflake.Binds,
  deadlineMs?: number,
): Promise<Executed> {
  return new Promise((resolve, reject) => {
    const stmt = conn.execute({
      sqlText,
      ...(binds ? { binds } : {}),
      rowMode: 'array',
      complete: (err, s, rows) => {
        clearTimeout(timer);
        if (err) reject(err);
        else
          resolve({
            rows: (rows ?? []) as unknown[][],
            columns: (s.getColumns() ?? []).map((c) => c.getName()),
          });
      },
    });
    // The driver answers asynchronously (HTTP), never before this line runs.
    const timer =
      deadlineMs === undefined
        ? undefined
        : setTimeout(() => {
            stmt.cancel(() => undefined);
            conn.destroy(() => undefined);
            reject(new StatementDeadlineError(deadlineMs));
          }, deadlineMs);
  });
}

/** Resolves `work` or rejects with a {@link StatementDeadlineError} after `ms`, calling `onLate`. */
export function withDeadline<T>(work: Promise<T>, ms: number, onLate: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      onLate();
      reject(new StatementDeadlineError(ms));
    }, ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/**
 * Session settings every pooled session gets before its first statement: the server-side
 * statement and lock-wait limits (the server cancels what the client deadline would otherwise
 * only abandon). Seconds, rounded up; both are documented session parameters.
 */
export function sessionSettingsSql(statementTimeoutMs: number): string {
  const s = Math.max(1, Math.ceil(statementTimeoutMs / 1000));
  return `ALTER SESSION SET STATEMENT_TIMEOUT_IN_SECONDS = ${s}, LOCK_TIMEOUT = ${s}`;
}
