import { randomBytes } from 'node:crypto';
import type { DuckDBConnection } from '@duckdb/node-api';
import { LoginError, verifyKeyPairToken, verifyPassword, type StandinUser } from './auth.js';
import type { Privileges, StandinEngine, StandinSessionState } from './engine.js';
import { fail, ok } from './result-format.js';

/** The account the stand-in plays. */
export interface StandinOptions {
  /** Account name the driver must present (case-insensitive). @default 'FLEETTEST' */
  account?: string;
  users: StandinUser[];
  /** The one database of the account. @default 'FLEET' */
  database?: string;
  /** @default ['PUBLIC'] */
  schemas?: string[];
  /** @default ['FLEET_WH'] */
  warehouses?: string[];
  /** Roles a login may ask for. @default ['FLEET_LOADER'] */
  roles?: string[];
  /** The account's TIMEZONE parameter: every new session starts in it. @default 'UTC' */
  timezone?: string;
  /**
   * Lifetime of a session token (s): after it, requests answer 390112 and the driver renews the
   * token with the master token (`POST /session/token-request`). @default 3600
   */
  sessionValiditySeconds?: number;
  /** Lifetime of a master token (s): after it, renewals answer 390114 (log in again). @default 14400 */
  masterValiditySeconds?: number;
}

export interface Session extends StandinSessionState {
  user: string;
  conn: DuckDBConnection;
  token: string;
  /** Epoch ms after which `token` is expired (390112). */
  tokenExpiresAt: number;
  /** The token the last renewal replaced: answered as expired, and a renewal with it gets `token`. */
  previousToken?: string;
  masterToken: string;
  masterExpiresAt: number;
  /** Answers by requestId: a resubmitted request gets the stored answer, not a second run. */
  answers: Map<string, unknown>;
  /** One statement at a time per session, like one DuckDB connection can take. */
  tail: Promise<unknown>;
}

export interface LoginAttempt {
  user: string;
  authenticator: string;
  /** Query parameters of the login URL (warehouse, databaseName, schemaName, roleName). */
  params: Record<string, string>;
  /** SESSION_PARAMETERS the driver sent (CLIENT_SESSION_KEEP_ALIVE...). */
  sessionParameters: Record<string, unknown>;
  ok: boolean;
  code?: string;
  message?: string;
}

/** Logins, session tokens (session + master), renewal and logout. */
export class Sessions {
  readonly logins: LoginAttempt[] = [];
  readonly account: string;
  private readonly byToken = new Map<string, Session>();
  private nextId = 1;

  constructor(
    private readonly options: StandinOptions,
    private readonly engine: StandinEngine,
    private readonly privileges: Privileges,
  ) {
    this.account = (options.account ?? 'FLEETTEST').toUpperCase();
  }

  /** Renewals answered with a new token, and refused ones. */
  renewals = { ok: 0, refused: 0 };

  get size(): number {
    return new Set(this.byToken.values()).size;
  }

  /** The session of a token (current or just replaced by a renewal). */
  get(token: string): Session | undefined {
    return this.byToken.get(token);
  }

  /** A token past its validity, or one a renewal replaced: the driver must renew (390112). */
  expired(session: Session, token: string): boolean {
    return token !== session.token || Date.now() >= session.tokenExpiresAt;
  }

  private get validityMs(): number {
    return (this.options.sessionValiditySeconds ?? 3600) * 1000;
  }

  /** `POST /session/v1/login-request`: key-pair JWT or password, then the session's objects. */
  async login(url: URL, body: { data?: Record<string, unknown> }): Promise<unknown> {
    const data = body.data ?? {};
    const userName = String(data.LOGIN_NAME ?? '');
    const authenticator = String(data.AUTHENTICATOR ?? 'SNOWFLAKE').toUpperCase();
    const sessionParameters = (data.SESSION_PARAMETERS ?? {}) as Record<string, unknown>;
    const attempt = {
      user: userName,
      authenticator,
      params: Object.fromEntries(url.searchParams),
      sessionParameters,
    };
    try {
      const user = this.options.users.find((u) => u.name.toUpperCase() === userName.toUpperCase());
      if (String(data.ACCOUNT_NAME ?? '').toUpperCase() !== this.account || !user) {
        throw new LoginError('390100', 'Incorrect username or password was specified.');
      }
      if (authenticator === 'SNOWFLAKE_JWT') verifyKeyPairToken(String(data.TOKEN ?? ''), this.account, user);
      else verifyPassword(user, data.PASSWORD);
      const roles = (this.options.roles ?? ['FLEET_LOADER']).map((r) => r.toUpperCase());
      const role = (url.searchParams.get('roleName') ?? roles[0]!).toUpperCase();
      if (!roles.includes(role)) {
        throw new LoginError(
          '390189',
          `Role '${role}' specified in the connect string is not granted to this user. Contact your local system administrator, or attempt to login with another role, e.g. PUBLIC.`,
        );
      }
      const session = await this.open(user.name.toUpperCase(), url, role);
      this.logins.push({ ...attempt, ok: true });
      const parameters = Object.entries({
        TIMEZONE: this.options.timezone ?? 'UTC',
        CLIENT_STAGE_ARRAY_BINDING_THRESHOLD: 65280,
        ...sessionParameters,
      }).map(([name, value]) => ({ name, value }));
      return ok({
        token: session.token,
        masterToken: session.masterToken,
        validityInSeconds: this.options.sessionValiditySeconds ?? 3600,
        masterValidityInSeconds: this.options.masterValiditySeconds ?? 14400,
        sessionId: session.id,
        displayUserName: session.user,
        serverVersion: 'standin',
        firstLogin: false,
        healthCheckInterval: 45,
        parameters,
        sessionInfo: {
          databaseName: session.names.database,
          schemaName: session.names.schema,
          warehouseName: session.names.warehouse,
          roleName: session.names.role,
        },
      });
    } catch (err) {
      if (!(err instanceof LoginError)) throw err;
      this.logins.push({ ...attempt, ok: false, code: err.code, message: err.message });
      return fail(err.code, err.message, { sqlState: '08004' });
    }
  }

  /**
   * `POST /session/token-request` (requestType RENEW, the master token in the Authorization header):
   * a new session token. A renewal that names the token an earlier renewal already replaced (two
   * requests of one session expired together) gets the current token.
   */
  renew(masterToken: string, body: { oldSessionToken?: string }): unknown {
    const session = [...new Set(this.byToken.values())].find((s) => s.masterToken === masterToken);
    const current = session?.token === body.oldSessionToken;
    if (
      !session ||
      Date.now() >= session.masterExpiresAt ||
      (!current && session.previousToken !== body.oldSessionToken)
    ) {
      this.renewals.refused++;
      return fail('390114', 'Authentication token has expired.  The user must authenticate again.');
    }
    if (current) {
      if (session.previousToken) this.byToken.delete(session.previousToken);
      session.previousToken = session.token;
      session.token = randomBytes(24).toString('hex');
      session.tokenExpiresAt = Date.now() + this.validityMs;
      this.byToken.set(session.token, session);
    }
    this.renewals.ok++;
    return ok({
      sessionToken: session.token,
      validityInSecondsST: Math.max(0, Math.round((session.tokenExpiresAt - Date.now()) / 1000)),
      masterToken,
      validityInSecondsMT: Math.max(0, Math.round((session.masterExpiresAt - Date.now()) / 1000)),
    });
  }

  /** Every session token is expired now: the next request of each session needs a renewal. */
  expireAll(): void {
    for (const s of this.byToken.values()) s.tokenExpiresAt = 0;
  }

  /** `POST /session?delete=true`: logout. */
  delete(session: Session): void {
    this.byToken.delete(session.token);
    if (session.previousToken) this.byToken.delete(session.previousToken);
    session.conn.closeSync();
  }

  closeAll(): void {
    for (const s of new Set(this.byToken.values())) s.conn.closeSync();
    this.byToken.clear();
  }

  /** Unknown names give a session without that object, as Snowflake does (queries then fail). */
  private async open(user: string, url: URL, role: string): Promise<Session> {
    const pick = (asked: string | null, known: string[], fallback?: string) => {
      const name = (asked ?? fallback)?.toUpperCase();
      return name && known.map((k) => k.toUpperCase()).includes(name) ? name : null;
    };
    const database = pick(url.searchParams.get('databaseName'), [this.options.database ?? 'FLEET']);
    const schema =
      database && pick(url.searchParams.get('schemaName'), this.options.schemas ?? ['PUBLIC'], 'PUBLIC');
    const warehouse = pick(url.searchParams.get('warehouse'), this.options.warehouses ?? ['FLEET_WH']);
    const session: Session = {
      id: this.nextId++,
      user,
      names: { database, schema, warehouse, role },
      privileges: this.privileges,
      temps: new Set(),
      params: new Map([['TIMEZONE', this.options.timezone ?? 'UTC']]),
      conn: await this.engine.openSession(this.options.timezone),
      token: randomBytes(24).toString('hex'),
      tokenExpiresAt: Date.now() + this.validityMs,
      masterToken: randomBytes(24).toString('hex'),
      masterExpiresAt: Date.now() + (this.options.masterValiditySeconds ?? 14400) * 1000,
      answers: new Map(),
      tail: Promise.resolve(),
    };
    this.byToken.set(session.token, session);
    return session;
  }
}
