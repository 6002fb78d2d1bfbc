/**
 * Fault injection for the stand-in: transient trouble as Snowflake (or the network in front of it)
 * produces it, so the sink's classification, retries and reconnects run against the real driver.
 *
 * - `http-503`, `http-429`: the HTTP status only (the driver retries these itself, with backoff).
 * - `drop`: the socket is destroyed before the statement runs (network error; driver retries).
 * - `drop-after-execute`: the statement runs, then the socket dies before the answer; the driver
 *   resends the same requestId and gets the stored answer (Snowflake's resubmission semantics).
 * - `warehouse-suspended` (000608), `statement-timeout` (000630), `internal-error` (000603):
 *   GS errors in a 200 answer; surfaced to the sink, which must treat them as transient.
 * - `session-expired` (390112): the driver renews the session token and resends.
 * - `session-gone` (390111): the session is dead; the driver fails the request, a new login is
 *   needed.
 * - `in-progress`: the query answers 333333 and the driver polls `/queries/{id}/result`.
 * - `hang`: no answer at all, the connection left open (a black-holed network path). Heartbeats
 *   hang too when the filter matches the text `HEARTBEAT`.
 * - `master-expired` (390114): for token renewals: the master token is refused; the driver gives
 *   the session up (a new login is needed).
 *
 * A fault applies to statements (`query-request`, the default), to logins (`endpoint: 'login'`)
 * or to session-token renewals (`endpoint: 'renew'`, `POST /session/token-request`).
 */
export type FaultKind =
  | 'http-503'
  | 'http-429'
  | 'drop'
  | 'drop-after-execute'
  | 'warehouse-suspended'
  | 'statement-timeout'
  | 'internal-error'
  | 'session-expired'
  | 'session-gone'
  | 'in-progress'
  | 'hang'
  | 'resource-monitor'
  | 'master-expired';

/** Which requests a fault hits. */
export type FaultEndpoint = 'query' | 'login' | 'renew';

export interface FaultFilter {
  /** Only statements whose SQL text matches. Default: every query-request. */
  match?: RegExp;
  /** @default 'query' */
  endpoint?: FaultEndpoint;
}

interface Fault extends FaultFilter {
  kind: FaultKind;
  until?: number;
  remaining?: number;
}

/** GS error answers of the error-kind faults. */
export const GS_FAULTS: Partial<Record<FaultKind, { code: string; sqlState: string; message: string }>> = {
  'warehouse-suspended': {
    code: '000608',
    sqlState: '57P03',
    message: "Warehouse 'FLEET_WH' cannot be resumed: it was suspended and is resuming, retry later.",
  },
  // The message Snowflake gives (code not documented: the sink matches the message).
  'resource-monitor': {
    code: '000608',
    sqlState: '57P03',
    message:
      "Warehouse 'FLEET_WH' cannot be resumed because resource monitor 'FLEET_MONITOR' has exceeded its quota.",
  },
  'statement-timeout': {
    code: '000630',
    sqlState: '57014',
    message: 'Statement reached its statement or warehouse timeout of 30 second(s) and was canceled.',
  },
  'internal-error': {
    code: '000603',
    sqlState: 'XX000',
    message:
      'SQL execution internal error: Processing aborted due to error 300005:1234567; incident 7654321.',
  },
  'session-expired': {
    code: '390112',
    sqlState: '08001',
    message: 'Your session has expired. Please login again.',
  },
  'session-gone': {
    code: '390111',
    sqlState: '08001',
    message: 'Session no longer exists.  New login required to access the service.',
  },
  'master-expired': {
    code: '390114',
    sqlState: '08001',
    message: 'Authentication token has expired.  The user must authenticate again.',
  },
};

export class FaultPlan {
  private faults: Fault[] = [];
  /** How many requests each kind of fault has hit (every endpoint). */
  readonly injected = new Map<FaultKind, number>();
  /** How many requests each kind of fault has hit, by endpoint (`login:http-503`). */
  readonly injectedAt = new Map<`${FaultEndpoint}:${FaultKind}`, number>();

  /** Every matching query-request fails this way for `ms` milliseconds. */
  failFor(ms: number, kind: FaultKind, filter: FaultFilter = {}): void {
    this.faults.push({ kind, until: Date.now() + ms, ...filter });
  }

  /** The next `count` matching query-requests fail this way. */
  failNext(count: number, kind: FaultKind, filter: FaultFilter = {}): void {
    this.faults.push({ kind, remaining: count, ...filter });
  }

  clear(): void {
    this.faults = [];
  }

  /** The fault for this statement, if any (consumes one of a counted fault). */
  take(sql: string): FaultKind | undefined {
    return this.pick('query', (f) => !f.match || f.match.test(sql));
  }

  /** The fault for a heartbeat: only faults whose filter names it (`match: /HEARTBEAT/`). */
  takeHeartbeat(): FaultKind | undefined {
    return this.pick('query', (f) => f.match?.test('HEARTBEAT') === true);
  }

  /** The fault for a login or a token renewal, if any. */
  takeAt(endpoint: Exclude<FaultEndpoint, 'query'>): FaultKind | undefined {
    return this.pick(endpoint, () => true);
  }

  private pick(endpoint: FaultEndpoint, applies: (f: Fault) => boolean): FaultKind | undefined {
    const now = Date.now();
    this.faults = this.faults.filter((f) => (f.until === undefined || f.until > now) && f.remaining !== 0);
    const fault = this.faults.find((f) => (f.endpoint ?? 'query') === endpoint && applies(f));
    if (!fault) return undefined;
    if (fault.remaining !== undefined) fault.remaining--;
    this.injected.set(fault.kind, (this.injected.get(fault.kind) ?? 0) + 1);
    const at = `${endpoint}:${fault.kind}` as const;
    this.injectedAt.set(at, (this.injectedAt.get(at) ?? 0) + 1);
    return fault.kind;
  }
}
