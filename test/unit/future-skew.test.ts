import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_FUTURE_MS, EventTimeError, parsePosition } from '../../src/domain/position.js';
import { jsonCodec } from '../../src/domain/codec.js';
import { parseNativeBody } from '../../src/ingest/gateway/native.js';
import { parseOsmAndQuery } from '../../src/ingest/gateway/osmand.js';
import { compileConfig } from '../../src/config/config.js';

const now = Date.UTC(2026, 0, 1);
const at = (ts: number) => ({ vehicleId: 'v-1', ts, lat: 1, lon: 2 });

describe('future-skew rule (one rule: gateway and processor)', () => {
  it('defaults to 30 s and names the reason', () => {
    expect(DEFAULT_MAX_FUTURE_MS).toBe(30_000);
    expect(parsePosition(at(now + 30_000), { now }).ts).toBe(now + 30_000);
    let error: unknown;
    try {
      parsePosition(at(now + 30_001), { now });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(EventTimeError);
    expect((error as EventTimeError).reason).toBe('future_timestamp');
    expect((error as EventTimeError).issues[0]?.path).toBe('ts');
  });

  it('honours a configured limit', () => {
    expect(() => parsePosition(at(now + 5000), { now, maxFutureMs: 1000 })).toThrow(/in the future/);
    expect(parsePosition(at(now + 900), { now, maxFutureMs: 1000 }).ts).toBe(now + 900);
  });

  it('the native body and OsmAnd parsers apply it', () => {
    const batch = parseNativeBody([at(now), at(now + 60_000)], { now });
    expect(batch.accepted).toHaveLength(1);
    expect(batch.rejected).toEqual([expect.objectContaining({ index: 1, reason: 'future_timestamp' })]);
    const ts = Math.floor((now + 60_000) / 1000);
    expect(() => parseOsmAndQuery({ id: 'v-1', lat: '1', lon: '2', timestamp: String(ts) }, { now })).toThrow(
      EventTimeError,
    );
  });

  it('the codec the processor decodes with applies it', () => {
    const bytes = Buffer.from(JSON.stringify(at(now + 60_000)));
    expect(() => jsonCodec.decode(bytes, { now })).toThrow(EventTimeError);
  });

  it('MAX_FUTURE_SKEW_MS is compiled and checked', () => {
    expect(compileConfig({}, {}).maxFutureSkewMs).toBe(30_000);
    expect(compileConfig({ MAX_FUTURE_SKEW_MS: '5000' }, {}).maxFutureSkewMs).toBe(5000);
    expect(() => compileConfig({ MAX_FUTURE_SKEW_MS: '-1' }, {})).toThrow(/MAX_FUTURE_SKEW_MS/);
  });

  it('GATEWAY_UNKNOWN_DEVICES defaults to accept only in development', () => {
    expect(compileConfig({}, {}).gateway.unknownDevices).toBe('reject');
    expect(compileConfig({}, { NODE_ENV: 'development' }).gateway.unknownDevices).toBe('accept');
    expect(compileConfig({ GATEWAY_UNKNOWN_DEVICES: 'accept' }, {}).gateway.unknownDevices).toBe('accept');
    expect(() => compileConfig({ GATEWAY_UNKNOWN_DEVICES: 'maybe' }, {})).toThrow(/GATEWAY_UNKNOWN_DEVICES/);
  });
});
