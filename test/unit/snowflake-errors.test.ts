import { describe, expect, it } from 'vitest';
import { SinkError } from '../../src/errors.js';
import { classifySnowflakeError, toSinkError } from '../../src/sinks/snowflake/errors.js';

/** Errors shaped the way snowflake-sdk 3.x builds them (name, code, sqlState, response, cause). */
const gs = (code: string, sqlState: string, message = `error ${code}`) =>
  Object.assign(new Error(message), { name: 'OperationFailedError', code, sqlState });
const driver = (code: number, extra: object = {}) =>
  Object.assign(new Error(`driver ${code}`), { name: 'NetworkError', code, ...extra });

describe('snowflake error classification', () => {
  it.each([
    ['warehouse suspended / resuming', gs('000608', '57P03')],
    ['statement / warehouse timeout', gs('000630', '57014')],
    ['statement canceled', gs('000604', '57014')],
    ['lock wait timeout', gs('000625', '57014')],
    ['internal error', gs('000603', 'XX000')],
    ['an unknown code in a connection-exception class', gs('123456', '08006')],
    ['an unknown code in a serialization-failure class', gs('123457', '40001')],
    ['network: could not connect', driver(401001, { cause: { code: 'ECONNRESET' } })],
    ['HTTP 503 after the driver gave up', driver(401002, { response: { statusCode: 503 } })],
    ['HTTP 429 throttling', driver(401002, { response: { statusCode: 429 } })],
    ['non-JSON answer from a proxy', driver(401003)],
    ['a bare socket error', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
  ])('%s is transient', (_what, err) => {
    expect(classifySnowflakeError(err).failure).toBe('transient');
    expect(toSinkError('write', classifySnowflakeError(err), err).retriable).toBe(true);
  });

  it.each([
    ['session expired past renewal', gs('390112', '08001')],
    ['session gone', gs('390111', '08001')],
    ['master token expired', gs('390114', '08001')],
    ['request on a disconnected connection', driver(407002)],
    ['invalid session token (HTTP 401)', driver(401004, { response: { statusCode: 401 } })],
  ])('%s reconnects (retriable)', (_what, err) => {
    expect(classifySnowflakeError(err).failure).toBe('reconnect');
    expect(toSinkError('write', classifySnowflakeError(err), err).retriable).toBe(true);
  });

  it.each([
    ['wrong password', gs('390100', '08004'), /SNOWFLAKE_USER/],
    ['JWT rejected', gs('390144', '08004'), /RSA_PUBLIC_KEY/],
    ['role not granted', gs('390189', '08004'), /SNOWFLAKE_ROLE/],
    ['no warehouse', gs('000606', '57P03'), /SNOWFLAKE_WAREHOUSE/],
    ['table missing or not authorized', gs('002003', '42S02'), /does not exist/],
    ['insufficient privileges', gs('003001', '42501'), /privilege/],
    ['column missing', gs('000904', '42000'), /column/],
    ['locked user (by SQLSTATE class, no code table entry)', gs('390102', '28000'), /390102/],
    ['no current database', gs('090105', '22000'), /SNOWFLAKE_DATABASE/],
    ['account suspended', gs('000666', '57014'), /suspended/],
  ])('%s is fatal, with a hint', (_what, err, hint) => {
    const c = classifySnowflakeError(err);
    expect(c.failure).toBe('fatal');
    const error = toSinkError('write of 10 records', c, err);
    expect(error).toBeInstanceOf(SinkError);
    expect(error.retriable).toBe(false);
    expect(error.message).toMatch(hint);
    expect(error.message).toContain(`[${(err as { code: string }).code}`);
    expect(error.cause).toBe(err);
  });

  it('a resource monitor suspension is transient but flagged; a network policy refusal is fatal', () => {
    const monitor = classifySnowflakeError(
      gs(
        '000608',
        '57P03',
        "Warehouse 'W' cannot be resumed because resource monitor 'M' has exceeded its quota.",
      ),
    );
    expect(monitor).toMatchObject({ failure: 'transient', resourceMonitor: true });
    expect(monitor.hint).toMatch(/quota/);
    // The pool drops the code: the message alone must do.
    const policy = classifySnowflakeError(
      new Error(
        'Incoming request with IP/Token 203.0.113.7 is not allowed to access Snowflake. Contact your account administrator.',
      ),
    );
    expect(policy).toMatchObject({ failure: 'fatal' });
    expect(toSinkError('login', policy, null).message).toMatch(/network policy/);
    expect(
      classifySnowflakeError(new Error('IP 203.0.113.7 is not allowed to access Snowflake.')).failure,
    ).toBe('fatal');
  });

  it('the client-side statement deadline reconnects (retriable)', () => {
    const err = Object.assign(new Error('no answer within the statement deadline'), { code: 'DEADLINE' });
    expect(classifySnowflakeError(err).failure).toBe('reconnect');
    expect(toSinkError('write', classifySnowflakeError(err), err).retriable).toBe(true);
  });

  it('HTTP 403 (network policy) is fatal, unknown errors stop rather than loop', () => {
    expect(classifySnowflakeError(driver(401002, { response: { statusCode: 403 } })).failure).toBe('fatal');
    expect(classifySnowflakeError(new Error('something nobody expected')).failure).toBe('fatal');
    expect(classifySnowflakeError('a string').failure).toBe('fatal');
  });

  it('bad values are data errors: not retriable, not fatal (the processor isolates the record)', () => {
    for (const err of [gs('100038', '22018'), gs('100072', '22000'), gs('100035', '23505')]) {
      const c = classifySnowflakeError(err);
      expect(c.failure).toBe('data');
      expect(toSinkError('write', c, err).retriable).toBe(false);
    }
  });

  it('flattens multi-line server messages into one log line', () => {
    const err = gs(
      '002003',
      '42S02',
      "SQL compilation error:\nObject 'POSITIONS' does not exist or not authorized.",
    );
    expect(toSinkError('write', classifySnowflakeError(err), err).message).toBe(
      "snowflake: write failed [002003 42S02]: SQL compilation error: Object 'POSITIONS' does not exist or not authorized. (object does not exist or the role lacks privileges on it)",
    );
  });
});
