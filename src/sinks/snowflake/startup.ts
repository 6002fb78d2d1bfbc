import type { SnowflakeConfig } from '../../config/config.js';
import { ConfigError, FleetError } from '../../errors.js';
import {
  connect,
  destroy,
  execute,
  sessionSettingsSql,
  withDeadline,
  type Connection,
  type ConnectionOptions,
} from './connection.js';
import { classifySnowflakeError, toSinkError } from './errors.js';
import { migrateTableSql, snowflakeTableDdl, stageDdl, verifyTableSql } from './sql.js';

export interface AccountCheck {
  database: string;
  schema: string;
  warehouse: string;
  role: string | null;
  /** Set when the table exists but the role could not have created it. */
  createSkipped?: ConfigError;
}

export interface CheckOptions {
  /** Name of the session-private stage table to create (the merge mode's). Omitted: not checked. */
  stage?: string;
  /** Client-side deadline of the login and of each statement. @default 120_000 */
  deadlineMs?: number;
  /** Fingerprint of the key in use, for the login error. */
  fingerprint?: string;
}

/**
 * The start-up check of the Snowflake sink, on one direct session (the pool hides the driver's
 * error codes): log in, make sure the session has a database, schema and warehouse, create the
 * table when allowed, read it, and create the session's temporary stage table (the schema
 * privilege it needs is missing from many roles that may use a pre-created table). Every problem
 * that a setting or a grant can fix comes back as a {@link ConfigError} naming it; trouble
 * reaching Snowflake (including no answer within the deadline) as a retriable SinkError.
 */
export async function checkAccount(
  options: ConnectionOptions,
  config: SnowflakeConfig,
  table: string,
  check: CheckOptions = {},
): Promise<AccountCheck> {
  const deadlineMs = check.deadlineMs ?? 120_000;
  let conn: Connection;
  const where = `${options.accessUrl} as ${config.user}`;
  try {
    const connecting = connect(options);
    conn = await withDeadline(connecting, deadlineMs, () => {
      connecting.then(destroy, () => undefined).catch(() => undefined);
    });
  } catch (err) {
    throw loginError(err, config, where, check.fingerprint);
  }
  const run = (sql: string) => execute(conn, sql, undefined, deadlineMs);
  try {
    await run(sessionSettingsSql(deadlineMs));
    const { rows } = await run(
      'SELECT CURRENT_DATABASE(), CURRENT_SCHEMA(), CURRENT_WAREHOUSE(), CURRENT_ROLE()',
    );
    const [database, schema, warehouse, role] = (rows[0] ?? []) as (string | null)[];
    const lacks = `does not exist or role '${role}' lacks USAGE on it`;
    if (!database) throw new ConfigError('SNOWFLAKE_DATABASE', `database '${config.database}' ${lacks}`);
    if (!schema)
      throw new ConfigError('SNOWFLAKE_SCHEMA', `schema '${config.database}.${config.schema}' ${lacks}`);
    if (!warehouse) {
      const why = config.warehouse
        ? `warehouse '${config.warehouse}' ${lacks}`
        : 'not set, and the user has no default';
      throw new ConfigError('SNOWFLAKE_WAREHOUSE', why);
    }
    const name = `${database}.${schema}.${table}`;
    // A role without CREATE TABLE may still use a table someone else created: read it either way.
    // A table of the first layout gains kafka_topic_id (old rows: the unknown-id marker).
    const createFailed = config.createTable
      ? ((await step(run, snowflakeTableDdl(table), 'SNOWFLAKE_CREATE_TABLE', `create table ${name}`)) ??
        (await step(run, migrateTableSql(table), 'SNOWFLAKE_CREATE_TABLE', `add kafka_topic_id to ${name}`)))
      : undefined;
    const readFailed = await step(run, verifyTableSql(table), 'WAREHOUSE_TABLE', `read table ${name}`);
    if (readFailed) throw createFailed ?? readFailed;
    if (check.stage) {
      const what = `create the temporary stage table ${database}.${schema}.${check.stage}`;
      const stageFailed = await step(run, stageDdl(check.stage), 'SNOWFLAKE_ROLE', what);
      if (stageFailed) {
        const grant = `GRANT CREATE TABLE ON SCHEMA ${database}.${schema} TO ROLE ${role ?? '<role>'}`;
        throw new ConfigError(
          'SNOWFLAKE_ROLE',
          `role '${role}' lacks the schema privilege CREATE TEMPORARY TABLE / CREATE TABLE on ${database}.${schema} (the merge mode stages each batch in a session-private temporary table): ${grant} — ${stageFailed.message}`,
          { cause: stageFailed },
        );
      }
    }
    return {
      database,
      schema,
      warehouse,
      role: role ?? null,
      ...(createFailed ? { createSkipped: createFailed } : {}),
    };
  } catch (err) {
    // The session settings and the context query: a suspended warehouse or a dropped answer here
    // is as retriable as at login, and says so.
    if (err instanceof FleetError) throw err;
    throw toSinkError(`start-up check on ${where}`, classifySnowflakeError(err), err);
  } finally {
    await destroy(conn);
  }
}

/** Runs one start-up statement; a settings problem is returned (not thrown) as a ConfigError. */
async function step(
  run: (sql: string) => Promise<unknown>,
  sql: string,
  variable: string,
  what: string,
): Promise<ConfigError | undefined> {
  try {
    await run(sql);
    return undefined;
  } catch (err) {
    const c = classifySnowflakeError(err);
    if (c.failure !== 'fatal') throw toSinkError(what, c, err);
    const fix =
      variable === 'SNOWFLAKE_CREATE_TABLE'
        ? 'grant CREATE TABLE on the schema, or create the table (DDL in docs/snowflake.md) and set SNOWFLAKE_CREATE_TABLE=false'
        : 'create it with the DDL in docs/snowflake.md (or set SNOWFLAKE_CREATE_TABLE=true) and grant SELECT, INSERT on it';
    const message = c.message.replace(/\s+/g, ' ');
    return new ConfigError(variable, `cannot ${what} [${c.code}]: ${message} — ${fix}`, { cause: err });
  }
}

function loginError(err: unknown, config: SnowflakeConfig, where: string, fingerprint?: string): Error {
  const c = classifySnowflakeError(err);
  if (c.failure !== 'fatal') {
    return toSinkError(
      `login to ${where} (check SNOWFLAKE_ACCOUNT / SNOWFLAKE_HOST and the network)`,
      c,
      err,
    );
  }
  const auth = config.auth;
  const variable =
    c.code === '390189'
      ? 'SNOWFLAKE_ROLE'
      : auth.kind === 'password'
        ? 'SNOWFLAKE_PASSWORD'
        : auth.privateKeyPath
          ? 'SNOWFLAKE_PRIVATE_KEY_PATH'
          : 'SNOWFLAKE_PRIVATE_KEY';
  const hint = c.hint ? ` — ${c.hint}` : '';
  const key = fingerprint
    ? `; this key's fingerprint is ${fingerprint} (DESC USER shows RSA_PUBLIC_KEY_FP)`
    : '';
  const message = c.message.replace(/\s+/g, ' ');
  return new ConfigError(
    variable,
    `Snowflake rejected the login to ${where} [${c.code}]: ${message}${hint}${key}`,
    {
      cause: err,
    },
  );
}
