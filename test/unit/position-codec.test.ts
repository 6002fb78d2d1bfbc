import { describe, expect, it } from 'vitest';
import { codecFor, jsonCodec, MAX_RECORD_BYTES } from '../../src/domain/codec.js';
import { parsePosition } from '../../src/domain/position.js';
import { DecodeError, ValidationError } from '../../src/errors.js';

const now = Date.UTC(2026, 10, 25, 12, 0, 0);
const valid = {
  vehicleId: 'truck-42',
  ts: now - 1000,
  lat: 52.52,
  lon: 13.405,
  speed: 42.5,
  heading: 90,
  battery: 80,
  attributes: { ignition: true, driver: 'ana' },
};

describe('position schema', () => {
  it('accepts a valid position and keeps every field', () => {
    expect(parsePosition(valid, { now })).toEqual(valid);
  });

  it.each([
    [{ ...valid, lat: 91 }, 'lat'],
    [{ ...valid, lon: -180.5 }, 'lon'],
    [{ ...valid, vehicleId: '' }, 'vehicleId'],
    [{ ...valid, vehicleId: 'x'.repeat(129) }, 'vehicleId'],
    [{ ...valid, vehicleId: 'bad id' }, 'vehicleId'],
    [{ ...valid, lat: '52.5' }, 'lat'],
    [{ ...valid, ts: 1.5 }, 'ts'],
    [{ ...valid, speed: -1 }, 'speed'],
    [{ ...valid, battery: 101 }, 'battery'],
    [{ ...valid, unknownField: 1 }, ''],
    [
      { ...valid, attributes: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, i])) },
      'attributes',
    ],
  ])('rejects %j naming the field', (input, field) => {
    try {
      parsePosition(input, { now });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).issues.some((i) => i.path === field)).toBe(true);
    }
  });

  it("refuses the reserved id 'nearby' (it names the /v1/vehicles/nearby route), on both paths", () => {
    // The plain object takes the fast path; the extra undefined field forces the schema.
    for (const input of [
      { ...valid, vehicleId: 'nearby' },
      { ...valid, vehicleId: 'nearby', speed: undefined },
    ]) {
      expect(() => parsePosition(input, { now })).toThrowError(
        /vehicleId: is reserved: 'nearby' names the \/v1\/vehicles\/nearby route; use another id/,
      );
    }
    expect(parsePosition({ ...valid, vehicleId: 'nearby-1' }, { now }).vehicleId).toBe('nearby-1');
  });

  it('refuses an attribute named __proto__ instead of silently dropping it (found by the fuzz)', () => {
    for (const raw of ['"x"', 'null', '1']) {
      const bytes = Buffer.from(
        JSON.stringify(valid).replace('"attributes":{', `"attributes":{"__proto__":${raw},`),
      );
      expect(() => jsonCodec.decode(bytes, { now })).toThrowError(ValidationError);
      expect(() => jsonCodec.decode(bytes, { now })).toThrowError(
        /attributes\.__proto__: the attribute name __proto__ is reserved/,
      );
    }
  });

  it('rejects absurd event times in the past and future', () => {
    expect(() => parsePosition({ ...valid, ts: now - 8 * 86_400_000 }, { now })).toThrowError(
      /ts: event time .* in the past/,
    );
    expect(() => parsePosition({ ...valid, ts: now + 10 * 60_000 }, { now })).toThrowError(
      /ts: event time .* in the future/,
    );
    expect(parsePosition({ ...valid, ts: now + 20_000 }, { now }).ts).toBe(now + 20_000);
  });
});

describe('json codec', () => {
  it('round-trips', () => {
    expect(jsonCodec.decode(jsonCodec.encode(valid), { now })).toEqual(valid);
  });

  it('reports what is wrong with bytes that are not a position', () => {
    expect(() => jsonCodec.decode(null)).toThrowError(DecodeError);
    expect(() => jsonCodec.decode(Buffer.from('{"vehicleId":'))).toThrowError(/not valid JSON/);
    expect(() => jsonCodec.decode(Buffer.from([0xff, 0xfe, 0x00, 0x01]))).toThrowError(DecodeError);
    expect(() => jsonCodec.decode(Buffer.from('[1,2]'))).toThrowError(/not a JSON object/);
    expect(() => jsonCodec.decode(Buffer.alloc(MAX_RECORD_BYTES + 1, 0x20))).toThrowError(/exceeds/);
    expect(() => jsonCodec.decode(Buffer.from('{"vehicleId":"a","ts":1,"lat":NaN,"lon":0}'))).toThrowError(
      DecodeError,
    );
  });

  it('is chosen by content-type; unknown types are refused', () => {
    expect(codecFor(undefined)).toBe(jsonCodec);
    expect(codecFor('application/json')).toBe(jsonCodec);
    expect(() => codecFor('application/avro')).toThrowError(/unsupported content-type/);
  });
});
