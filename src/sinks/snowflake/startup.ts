import type { SnowflakeConfig } from '../../config/config.js';
import { ConfigError } from '../../errors.js';
import { connect, destroy, execute, type Connection, type ConnectionOptions } from './connection.js';
import { classifySnowflakeError, toSinkError } from './errors.js';
import { snowflakeTableDdl, verifyTableSql } from './sql.js';

export interface AccountCheck {
  database: string;
  schema: string;
  warehouse: string;
  role: string | null;
  /** Set when the table exists but the role could not have created it. */
  createSkipped?: ConfigError;
}

/**
 * The start-up check of the Snowflake sink, on one direct session (the pool hides the driver's
 * error codes): log in, make sure the session has a database, schema and warehouse, create the
 * table when allowed, then read it. Every problem that a setting can fix comes back as a
 * {@link ConfigError} naming that setting; trouble reaching Snowflake as a retriable SinkError.
 */
export async function checkAccount(
  options: ConnectionOptions,
  config: SnowflakeConfig,
  table: string,
  fingerprint?: string,
): Promise<AccountCheck> {
  let conn: Connection;
  try {
    conn = await connect(options);
  } catch (err) {
    throw loginError(err, config, `${options.accessUrl} as ${config.user}`, fingerprint);
  }
  try {
    const { rows } = await execute(
      conn,
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
    const createFailed = config.createTable
      ? await step(conn, snowflakeTableDdl(table), 'SNOWFLAKE_CREATE_TABLE', `create table ${name}`)
      : undefined;
    const readFailed = await step(conn, verifyTableSql(table), 'WAREHOUSE_TABLE', `read table ${name}`);
    if (readFailed) throw createFailed ?? readFailed;
    return {
      database,
      schema,
      warehouse,
      role: role ?? null,
      ...(createFailed ? { createSkipped: createFailed } : {}),
    };
  } finally {
    await destroy(conn);
  }
}

/** Runs one start-up statement; a settings problem is returned (not thrown) as a ConfigError. */
async function step(
  conn: Connection,
  sql: string,
  variable: string,
  what: string,
): Promise<ConfigError | undefined> {
  try {
    await execute(conn, sql);
    return undefined;
  } catch (err) {
    const c = classifySnowflakeError(err);
    if (c.failure !== 'fatal') throw toSinkError(what, c, err);
    const fix =
      variable === 'SNOWFLAKE_CREATE_TABLE'
        ? 'grant CREATE TABLE on the schema, or create the table (README, section Warehouse) and set SNOWFLAKE_CREATE_TABLE=false'
        : 'create it with the DDL in the README (section Warehouse) (or set SNOWFLAKE_CREATE_TABLE=true) and grant SELECT, INSERT on it';
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
