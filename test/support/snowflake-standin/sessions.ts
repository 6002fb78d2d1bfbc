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
}

export interface Session extends StandinSessionState {
  user: string;
  conn: DuckDBConnection;
  token: string;
  masterToken: string;
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

  get size(): number {
    return this.byToken.size;
  }

  get(token: string): Session | undefined {
    return this.byToken.get(token);
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
        TIMEZONE: 'UTC',
        CLIENT_STAGE_ARRAY_BINDING_THRESHOLD: 65280,
        ...sessionParameters,
      }).map(([name, value]) => ({ name, value }));
      return ok({
        token: session.token,
        masterToken: session.masterToken,
        validityInSeconds: 3600,
        masterValidityInSeconds: 14400,
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

  /** `POST /session/token-request`: a new session token for the master token. */
  renew(masterToken: string, body: { oldSessionToken?: string }): unknown {
    const session = [...this.byToken.values()].find((s) => s.masterToken === masterToken);
    if (!session || body.oldSessionToken !== session.token) {
      return fail('390114', 'Authentication token has expired.  The user must authenticate again.');
    }
    this.byToken.delete(session.token);
    session.token = randomBytes(24).toString('hex');
    this.byToken.set(session.token, session);
    return ok({
      sessionToken: session.token,
      validityInSecondsST: 3600,
      masterToken,
      validityInSecondsMT: 14400,
    });
  }

  /** `POST /session?delete=true`: logout. */
  delete(session: Session): void {
    this.byToken.delete(session.token);
    session.conn.closeSync();
  }

  closeAll(): void {
    for (const s of this.byToken.values()) s.conn.closeSync();
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
      conn: await this.engine.openSession(),
      token: randomBytes(24).toString('hex'),
      masterToken: randomBytes(24).toString('hex'),
      answers: new Map(),
      tail: Promise.resolve(),
    };
    this.byToken.set(session.token, session);
    return session;
  }
}
