import { errorMessage, SinkError } from '../../errors.js';

/**
 * How the Snowflake sink reacts to a failure:
 * - `transient`: network, throttling, warehouse suspended/resuming, timeouts, internal errors —
 *   retry with backoff (the processor holds the stream meanwhile).
 * - `reconnect`: the session is gone or expired — drop the connection, retry on a new login.
 * - `fatal`: auth, permissions, missing objects, schema mismatch — every write would fail the
 *   same way; surface loudly and stop committing.
 * - `data`: the statement was fine but a value was not (conversion, constraint) — not retriable,
 *   yet specific to the batch (the processor isolates the poison record).
 */
export type SnowflakeFailure = 'transient' | 'reconnect' | 'fatal' | 'data';

export interface Classified {
  failure: SnowflakeFailure;
  /** GS code (e.g. `000608`), driver code (e.g. `401001`) or HTTP status. */
  code: string;
  sqlState?: string;
  message: string;
  /** What to check, when the code points at a setting. */
  hint?: string;
  /** A resource monitor suspended the warehouse: retried, but needs an administrator. */
  resourceMonitor?: boolean;
}

interface DriverError {
  name?: string;
  code?: string | number;
  sqlState?: string;
  message?: string;
  response?: { statusCode?: number; status?: number };
  cause?: { code?: string; message?: string };
}

/**
 * GS codes with a known meaning; everything else falls back to the SQLSTATE class and messages.
 * Sources: [driver] = snowflake-sdk `lib/constants/gs_errors.js` (3.3.0); [docs] = a Snowflake
 * documentation page; [observed] = the code Snowflake puts on that message, not in a document we
 * can cite: the SQLSTATE class gives the same classification without it (only the hint is lost).
 */
const CODES: Record<string, [SnowflakeFailure, string?]> = {
  // Login
  '390100': ['fatal', 'check SNOWFLAKE_USER / SNOWFLAKE_PASSWORD'], // [driver] INCORRECT_USERNAME_PASSWORD
  '390144': [
    'fatal',
    'JWT rejected: is the public key of this private key set on the user (RSA_PUBLIC_KEY)?',
  ], // [docs] key-pair troubleshooting: "JWT token is invalid"
  '390189': ['fatal', 'SNOWFLAKE_ROLE is not granted to the user'], // [observed]
  // Session lifetime (the driver renews expired session tokens itself; these are past that)
  '390104': ['reconnect'], // [driver] SESSION_TOKEN_INVALID
  '390111': ['reconnect'], // [driver] GONE_SESSION
  '390112': ['reconnect'], // [driver] SESSION_TOKEN_EXPIRED
  '390114': ['reconnect'], // [driver] MASTER_TOKEN_EXPIRED
  // Objects, privileges, schema — all [observed]; SQLSTATE 42xxx / 22000 classify them anyway
  '000606': ['fatal', 'no usable warehouse: set SNOWFLAKE_WAREHOUSE and grant USAGE on it to the role'],
  '002003': ['fatal', 'object does not exist or the role lacks privileges on it'],
  '003001': ['fatal', 'the role lacks a privilege (see the grants in docs/snowflake.md)'],
  '000904': ['fatal', 'the table lacks a column the sink writes (compare with the DDL in docs/snowflake.md)'],
  '001003': ['fatal'],
  '090105': ['fatal', 'SNOWFLAKE_DATABASE does not exist or the role lacks USAGE on it'],
  '090106': ['fatal', 'SNOWFLAKE_SCHEMA does not exist or the role lacks USAGE on it'],
  '000666': ['fatal', 'the account is suspended'],
  // Compute and service hiccups — [observed]; SQLSTATE 57xxx / XX000 classify them anyway
  '000608': ['transient'], // warehouse suspended / resuming
  '000630': ['transient'], // statement or warehouse timeout (STATEMENT_TIMEOUT_IN_SECONDS)
  '000604': ['transient'], // statement canceled
  '000625': ['transient'], // lock wait timeout (LOCK_TIMEOUT)
  '000603': ['transient'], // internal error, incident
  // Ours: the client-side statement deadline fired; the session was destroyed.
  DEADLINE: ['reconnect'],
};

/** A network policy refusing our address: no retry will help (message as Snowflake words it). */
const NETWORK_POLICY = /IP(?:\/Token)? \S+ is not allowed to access Snowflake/i;
/**
 * A warehouse suspended by a resource monitor (credit quota used up). Retried like any suspended
 * warehouse (an admin can raise the quota), but flagged: it will not pass by itself.
 */
const RESOURCE_MONITOR = /resource monitor/i;

/** Driver-side (client) error codes. */
const DRIVER: Record<number, SnowflakeFailure> = {
  401001: 'transient', // could not reach Snowflake
  401002: 'transient', // HTTP failure (status decides below)
  401003: 'transient', // answer was not JSON (proxy, load balancer)
  401004: 'reconnect', // invalid session token
  405503: 'reconnect', // connect on a dead connection
  407001: 'reconnect', // request before connect
  407002: 'reconnect', // request on a disconnected connection
};

function bySqlState(state: string | undefined): SnowflakeFailure | undefined {
  if (!state) return undefined;
  if (state.startsWith('08') || state.startsWith('57') || state.startsWith('40') || state === 'XX000')
    return 'transient';
  if (state.startsWith('28') || state.startsWith('42') || state.startsWith('0A') || state === '02000')
    return 'fatal';
  if (state.startsWith('22') || state.startsWith('23')) return 'data';
  return undefined;
}

const NETWORK =
  /ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN|ENETUNREACH|EHOSTUNREACH|socket hang up|timeout/i;

export function classifySnowflakeError(err: unknown): Classified {
  const e = (typeof err === 'object' && err !== null ? err : {}) as DriverError;
  const message = e.message ?? errorMessage(err);
  const code = e.code === undefined ? '' : String(e.code);
  if (NETWORK_POLICY.test(message)) {
    return {
      failure: 'fatal',
      code: code || 'network-policy',
      message,
      hint: "a network policy refuses this host's IP: add it to the policy's allowed list",
    };
  }
  if (RESOURCE_MONITOR.test(message)) {
    return {
      failure: 'transient',
      code: code || 'resource-monitor',
      message,
      resourceMonitor: true,
      hint: 'a resource monitor suspended the warehouse: raise its credit quota or wait for the next interval',
    };
  }
  const known = CODES[code];
  if (known) {
    return {
      failure: known[0],
      code,
      message,
      ...(e.sqlState ? { sqlState: e.sqlState } : {}),
      ...(known[1] ? { hint: known[1] } : {}),
    };
  }
  const driver = typeof e.code === 'number' ? DRIVER[e.code] : undefined;
  if (driver) {
    const status = e.response?.statusCode ?? e.response?.status;
    // 4xx other than timeout/throttling (e.g. 403 from a network policy) will not pass by itself.
    const fatal =
      e.code === 401002 &&
      status !== undefined &&
      status >= 400 &&
      status < 500 &&
      status !== 408 &&
      status !== 429;
    return { failure: fatal ? 'fatal' : driver, code: status ? `${code}/HTTP ${status}` : code, message };
  }
  const byState = bySqlState(e.sqlState);
  if (byState) return { failure: byState, code, sqlState: e.sqlState!, message };
  if (NETWORK.test(message) || NETWORK.test(e.cause?.code ?? ''))
    return { failure: 'transient', code, message };
  // Unknown failures stop the pipeline rather than loop or dead-letter good records.
  return { failure: 'fatal', code, message };
}

/** The SinkError the port promises: retriable for transient and reconnect failures. */
export function toSinkError(what: string, c: Classified, cause: unknown): SinkError {
  const id = c.code ? ` [${c.code}${c.sqlState ? ` ${c.sqlState}` : ''}]` : '';
  const hint = c.hint ? ` (${c.hint})` : '';
  const message = c.message.replace(/\s+/g, ' ').trim();
  return new SinkError('snowflake', `${what} failed${id}: ${message}${hint}`, {
    retriable: c.failure === 'transient' || c.failure === 'reconnect',
    cause,
  });
}
