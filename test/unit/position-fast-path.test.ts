import { describe, expect, it } from 'vitest';
import { parsePosition, PositionSchema } from '../../src/domain/position.js';
import { ValidationError } from '../../src/errors.js';

/**
 * parsePosition answers most inputs without the zod schema (a hand-written check, ~20× cheaper). It
 * must never accept what the schema rejects nor return something else than the schema would: these
 * tests compare the two on boundary values of every field and on random mixes of them.
 */
const noTimeBounds = { now: 0, maxAgeMs: Number.POSITIVE_INFINITY, maxFutureMs: Number.POSITIVE_INFINITY };

const base = {
  vehicleId: 'truck-42',
  ts: 1_764_000_000_000,
  lat: 52.52,
  lon: 13.405,
  speed: 42.5,
  heading: 90,
  altitude: 35.2,
  accuracy: 4.1,
  battery: 80,
  attributes: { odometer: 1234, motion: true, driver: 'ana', note: null },
};

const ranges: Record<string, [number, number]> = {
  lat: [-90, 90],
  lon: [-180, 180],
  speed: [0, 1500],
  heading: [0, 360],
  altitude: [-1000, 50_000],
  accuracy: [0, 1_000_000],
  battery: [0, 100],
  ts: [0, 8.64e15],
};

const odd = [NaN, Infinity, -Infinity, '1', null, undefined, true, {}, [], -0];

/** Values to try per field: each side of every bound, plus wrong types. */
const candidates: Record<string, unknown[]> = {
  vehicleId: ['a', 'x'.repeat(128), 'x'.repeat(129), '', 'bad id', 'ok.id_1:2@3-4', 'é', 7, null, undefined],
  attributes: [
    {},
    Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`k${i}`, i])),
    Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, i])),
    { ['k'.repeat(64)]: 1 },
    { ['k'.repeat(65)]: 1 },
    { '': 1 },
    { s: 'v'.repeat(1024) },
    { s: 'v'.repeat(1025) },
    Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`k${i}`, 'v'.repeat(1000)])),
    // Just under and just over 4096 bytes of JSON: the size check itself decides.
    Object.fromEntries(Array.from({ length: 4 }, (_, i) => [`k${i}`, 'v'.repeat(1000)])),
    Object.fromEntries(Array.from({ length: 4 }, (_, i) => [`k${i}`, 'v'.repeat(1020)])),
    { s: '\u0001'.repeat(680) },
    { s: '\u0001'.repeat(690) },
    { s: '"'.repeat(1000), t: '"'.repeat(1000) },
    { s: '"'.repeat(1000), t: '"'.repeat(1024), u: 'x'.repeat(100) },
    { n: NaN },
    { n: Infinity },
    { nested: { a: 1 } },
    { list: [1] },
    { u: undefined },
    [],
    null,
    'text',
    Object.create(null) as object,
    undefined,
  ],
};
for (const [field, [min, max]] of Object.entries(ranges)) {
  const step = field === 'ts' ? 1 : 1e-9;
  candidates[field] = [min, max, min - step, max + step, (min + max) / 2, 1.5, ...odd];
}

function inputs(): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [base];
  for (const [field, values] of Object.entries(candidates)) {
    for (const value of values) out.push({ ...base, [field]: value });
    const { [field]: _dropped, ...without } = base as Record<string, unknown>;
    out.push(without);
  }
  out.push({ ...base, extra: 1 }, { vehicleId: 'v', ts: 0, lat: 0, lon: 0 });
  // Random mixes of boundary values (seeded, so failures reproduce).
  let seed = 42;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const fields = Object.keys(candidates);
  for (let i = 0; i < 3000; i++) {
    const input: Record<string, unknown> = { ...base };
    for (const field of fields) {
      if (random() < 0.3) {
        const values = candidates[field]!;
        input[field] = values[Math.floor(random() * values.length)];
      }
    }
    out.push(input);
  }
  return out;
}

describe('parsePosition fast path', () => {
  it('agrees with the schema on every boundary and on random mixes', () => {
    let fast = 0;
    for (const input of inputs()) {
      const schema = PositionSchema.safeParse(input);
      let result: unknown;
      let error: unknown;
      try {
        result = parsePosition(input, noTimeBounds);
      } catch (err) {
        error = err;
      }
      if (schema.success) {
        expect(error, JSON.stringify(input)).toBeUndefined();
        expect(result).toEqual(schema.data);
        if (result === input) fast++;
      } else {
        expect(error, JSON.stringify(input)).toBeInstanceOf(ValidationError);
        expect((error as ValidationError).issues.map((i) => i.path)).toEqual(
          schema.error.issues.map((i) => i.path.join('.')),
        );
      }
    }
    // The fast path really answers the common case (otherwise this test proves nothing about it).
    expect(fast).toBeGreaterThan(200);
  });

  it('takes the fast path for an ordinary decoded record and the schema for odd-but-valid input', () => {
    const decoded = JSON.parse(JSON.stringify(base)) as unknown;
    expect(parsePosition(decoded, noTimeBounds)).toBe(decoded);
    const withUndefined = { ...base, speed: undefined };
    const parsed = parsePosition(withUndefined, noTimeBounds);
    expect(parsed).not.toBe(withUndefined);
    expect(parsed).toEqual(PositionSchema.parse(withUndefined));
  });

  it('still applies the event-time bounds on the fast path', () => {
    const now = base.ts;
    expect(() => parsePosition({ ...base }, { now: now + 8 * 86_400_000 })).toThrowError(/in the past/);
    expect(() => parsePosition({ ...base }, { now: now - 10 * 60_000 })).toThrowError(/in the future/);
  });
});
