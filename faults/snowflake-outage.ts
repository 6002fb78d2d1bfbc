import { writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  generateKeyPair,
  startSnowflakeStandin,
  type FaultKind,
} from '../test/support/snowflake-standin/index.js';
import type { AuthFault, StreamFault } from '../test/support/snowflake-standin/streaming.js';
import { seededRandom } from './fuzz.js';
import { check, type ScenarioContext } from './scenario.js';
import { warehouseOutageScenario, type OutageTarget } from './warehouse-outage.js';

/** Statement faults (MERGE ingest): inserts answered 503, connections dropped, GS errors, no answer. */
const STATEMENT_FAULTS: readonly FaultKind[] = [
  'http-503',
  'drop',
  'warehouse-suspended',
  'internal-error',
  'hang',
];
/** Login faults: the driver retries a 503 or a dropped connection itself, then gives up. */
const LOGIN_FAULTS: readonly FaultKind[] = ['http-503', 'drop'];
/**
 * Renewal faults: a 503 or a refused master token (390114) ends the session (a new login follows).
 * A dropped renewal is left out: the driver then resends the request with the expired token at
 * once, in a loop without backoff, for as long as the fault lasts.
 */
const RENEWAL_FAULTS: readonly FaultKind[] = ['http-503', 'master-expired'];
/**
 * Outages of the Snowpipe Streaming appends: faults under which nothing lands, as the scenario's
 * checks (no commit, backpressure) assume. A lost answer is not an outage: the rows land and the
 * offsets may rightly be committed once the channel reports them;
 * test/integration/warehouse-snowflake-streaming.test.ts pins that case (no loss, no duplicate).
 */
const APPEND_FAULTS: readonly StreamFault[] = ['http-503', 'invalidate', 'hang'];
const AUTH_FAULTS: readonly AuthFault[] = ['http-503', 'drop'];

/**
 * Session tokens (MERGE) and scoped tokens (streaming) live this long, so the driver and the
 * streaming client renew them many times in a quick run, before, during and after the outage.
 */
const TOKEN_VALIDITY_S = 4;

/** One drawn fault: what it hits, for how long within the outage, and how to start it. */
interface Phase {
  name: string;
  /** Share of the outage before it starts, and its length (fractions of the outage). */
  from: number;
  length: number;
  start(ms: number): void;
  /** Requests it hit so far. */
  hits(): number;
}

/**
 * The Snowflake stand-in, its outage a mix of faults drawn by the seed: in one part of the outage
 * the writes fail (one statement or append kind), in the other the authentication does — every
 * token is expired, renewals fail one way and logins another. Nothing can land in either part, so
 * the scenario's no-commit and backpressure checks hold; each fault is its own fault window, and
 * one that hit no request fails the run.
 */
export async function snowflakeTarget(
  ctx: ScenarioContext,
  ingest: 'merge' | 'streaming',
): Promise<OutageTarget> {
  const keys = generateKeyPair();
  const keyFile = path.join(ctx.runDir, 'snowflake-key.p8');
  writeFileSync(keyFile, keys.privateKeyPem, { mode: 0o600 });
  const standin = await startSnowflakeStandin({
    users: [{ name: 'FAULTS', publicKeyPem: keys.publicKeyPem }],
    sessionValiditySeconds: TOKEN_VALIDITY_S,
  });
  standin.streaming.tokenTtlMs = TOKEN_VALIDITY_S * 1000;
  const random = seededRandom(ctx.seed ^ 0x4b);
  const draw = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
  const authFirst = random() < 0.5;
  const writes = authFirst ? { from: 0.5, length: 0.5 } : { from: 0, length: 0.5 };
  const auth = authFirst ? 0 : 0.5;
  const counted = (name: string) => () => standin.streaming.counts.get(name) ?? 0;
  const at = (key: `${'query' | 'login' | 'renew'}:${FaultKind}`) => () =>
    standin.faults.injectedAt.get(key) ?? 0;
  let phases: Phase[];
  if (ingest === 'merge') {
    const [s, l, r] = [draw(STATEMENT_FAULTS), draw(LOGIN_FAULTS), draw(RENEWAL_FAULTS)];
    phases = [
      {
        name: `statements fail: ${s}`,
        ...writes,
        start: (ms) => standin.failFor(ms, s),
        hits: at(`query:${s}`),
      },
      {
        name: `session tokens expired, renewals fail: ${r}`,
        from: auth,
        length: 0.5,
        start: (ms) => {
          standin.failFor(ms, r, { endpoint: 'renew' });
          standin.expireSessionTokens();
        },
        hits: at(`renew:${r}`),
      },
      {
        name: `logins fail: ${l}`,
        from: auth,
        length: 0.5,
        start: (ms) => standin.failFor(ms, l, { endpoint: 'login' }),
        hits: at(`login:${l}`),
      },
    ];
  } else {
    const [a, l, r] = [draw(APPEND_FAULTS), draw(AUTH_FAULTS), draw(AUTH_FAULTS)];
    phases = [
      {
        name: `appends fail: ${a}`,
        ...writes,
        start: (ms) => standin.streaming.failAppendsFor(ms, a),
        hits: counted(`fault:append:${a}`),
      },
      {
        name: `scoped tokens expired, JWT logins (hostname discovery) fail: ${l}`,
        from: auth,
        length: 0.25,
        start: (ms) => {
          standin.streaming.failAuthFor(ms, 'hostname', l);
          standin.streaming.expireTokens();
        },
        hits: counted(`fault:hostname:${l}`),
      },
      {
        name: `scoped tokens expired, token renewals (exchange) fail: ${r}`,
        from: auth + 0.25,
        length: 0.25,
        start: (ms) => {
          standin.streaming.failAuthFor(ms, 'token', r);
          standin.streaming.expireTokens();
        },
        hits: counted(`fault:token:${r}`),
      },
    ];
  }
  const timers: NodeJS.Timeout[] = [];
  const closers: (() => void)[] = [];
  let renewedBefore = 0;
  // Streaming: the first exchange is the login, every later one a renewal.
  const renewed = () =>
    ingest === 'merge'
      ? standin.renewals.ok
      : Math.max(0, (standin.streaming.counts.get('token-issued') ?? 0) - 1);
  const stopAll = () => {
    for (const t of timers) clearTimeout(t);
    standin.faults.clear();
    standin.streaming.clearFaults();
    for (const close of closers) close();
  };
  return {
    env: {
      WAREHOUSE: 'snowflake',
      SNOWFLAKE_ACCOUNT: standin.accountName.toLowerCase(),
      SNOWFLAKE_USER: 'faults',
      SNOWFLAKE_PRIVATE_KEY_PATH: keyFile,
      SNOWFLAKE_DATABASE: 'fleet',
      SNOWFLAKE_SCHEMA: 'PUBLIC',
      SNOWFLAKE_WAREHOUSE: 'fleet_wh',
      SNOWFLAKE_ROLE: 'FLEET_LOADER',
      SNOWFLAKE_HOST: standin.url,
      SNOWFLAKE_DISABLE_PLATFORM_DETECTION: 'true',
      SNOWFLAKE_INGEST: ingest,
      // A hung request must not hold the processor for the default 2 minutes of the quick run.
      SNOWFLAKE_STATEMENT_TIMEOUT_MS: '10000',
    },
    describe: `${phases.map((p) => p.name).join(', then/with ')} (stand-in fault injection; tokens valid ${TOKEN_VALIDITY_S} s)`,
    down: (ms) => {
      renewedBefore = renewed();
      for (const phase of phases) {
        const begin = () => {
          const length = Math.round(ms * phase.length);
          const close = ctx.faults.open(`snowflake ${phase.name}`);
          closers.push(close);
          phase.start(length);
          timers.push(setTimeout(close, length));
        };
        if (phase.from === 0) begin();
        else timers.push(setTimeout(begin, Math.round(ms * phase.from)));
      }
    },
    up: stopAll,
    checks: () => [
      check(
        'every drawn Snowflake fault hit requests',
        phases.every((p) => p.hits() > 0),
        phases.map((p) => `${p.name}: ${p.hits()} request(s)`).join('; '),
      ),
      check(
        // Not "before the outage" too: whether a quick run's processor lives past one token
        // validity before the outage begins is timing (a stored quick run had 0 before, 5 after).
        `tokens were renewed successfully after the outage began (validity ${TOKEN_VALIDITY_S} s)`,
        renewed() > renewedBefore,
        `${renewedBefore} renewal(s) before the outage, ${renewed()} by the end`,
      ),
    ],
    rows: async (stage) =>
      (
        await standin.engine.query(
          `SELECT vehicle_id, epoch_ms(ts), kafka_partition, CAST(kafka_offset AS VARCHAR) FROM ${stage.config.warehouse.table}
           WHERE kafka_topic = '${stage.config.topic.name}'`,
        )
      ).map((r) => ({
        vehicleId: String(r[0]),
        ts: Number(r[1]),
        partition: Number(r[2]),
        offset: String(r[3]),
      })),
    close: async () => {
      stopAll();
      await standin.close();
    },
  };
}

export const warehouseOutageSnowflake = warehouseOutageScenario({
  id: 'warehouse-outage-sf',
  variant: 'b',
  title:
    'Warehouse outage: the Snowflake stand-in fails for 60 s while positions flow (writes, then or before logins and renewals)',
  target: (ctx) => snowflakeTarget(ctx, 'merge'),
});

export const warehouseOutageSnowpipe = warehouseOutageScenario({
  id: 'warehouse-outage-sps',
  variant: 'c',
  title:
    'Warehouse outage: Snowpipe Streaming fails for 60 s while positions flow (appends, JWT logins, token renewals)',
  target: (ctx) => snowflakeTarget(ctx, 'streaming'),
});
