import fc from 'fast-check';
import type { Position } from '../src/domain/position.js';
import { DecodeError, ValidationError } from '../src/errors.js';

/**
 * fast-check generators shared by the property-based fuzz (faults/fuzz-properties.ts,
 * faults/fuzz-api.ts): valid positions, and the hostile strings and bytes around them.
 */

/** One seed and run count for every property of a run, so a failure replays from the seed. */
export interface FuzzParameters {
  seed: number;
  numRuns: number;
}

/** A named property the unit suite and `npm run faults` both run; rejects with the counterexample. */
export interface FuzzProperty {
  name: string;
  check(params: FuzzParameters): Promise<void>;
}

/** Runs `fn`; errors that are ours (a bad input reported as such) pass, anything else is a bug. */
export function onlyOurErrors<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ValidationError || err instanceof DecodeError) return undefined;
    throw err;
  }
}

/** `-0` is written as `0` by JSON: positions are compared after the same normalisation. */
const noNegativeZero = (x: number) => (x === 0 ? 0 : x);
const double = (min: number, max: number) =>
  fc.double({ min, max, noNaN: true, noDefaultInfinity: true }).map(noNegativeZero);

export const vehicleIdArb = fc
  .stringMatching(/^[A-Za-z0-9._:@-]{1,128}$/)
  .filter((id) => id.length <= 128 && id !== 'nearby');

/** `__proto__` is refused (see parsePosition): not a valid position's attribute. */
const attributeNameArb = fc.string({ minLength: 1, maxLength: 32 }).filter((name) => name !== '__proto__');
const attributeValueArb = fc.oneof(
  fc.string({ maxLength: 64 }),
  double(-1e12, 1e12),
  fc.boolean(),
  fc.constant(null),
);

/** Positions that satisfy the schema with event times inside the window ending at `now`. */
export function positionArb(now: number): fc.Arbitrary<Position> {
  return fc.record(
    {
      vehicleId: vehicleIdArb,
      ts: fc.integer({ min: now - 6 * 86_400_000, max: now + 29_000 }),
      lat: double(-90, 90),
      lon: double(-180, 180),
      speed: double(0, 1500),
      heading: double(0, 360),
      altitude: double(-1000, 50_000),
      accuracy: double(0, 1_000_000),
      battery: double(0, 100),
      attributes: fc.dictionary(attributeNameArb, attributeValueArb, {
        maxKeys: 8,
        // A parsed position is a plain object: compare like with like.
        noNullPrototype: true,
      }),
    },
    { requiredKeys: ['vehicleId', 'ts', 'lat', 'lon'], noNullPrototype: true },
  );
}

/** Strings a parser of numbers, times and ids meets on the wire. */
export const hostileTextArb = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.double().map(String),
  fc.integer().map(String),
  fc.bigInt().map(String),
  fc
    .date({ noInvalidDate: false })
    .map((d) => (Number.isNaN(d.getTime()) ? 'Invalid Date' : d.toISOString())),
  fc.constantFrom(
    '',
    ' ',
    'NaN',
    'Infinity',
    '-Infinity',
    '1e999',
    '0x10',
    '1,2',
    '-0',
    '__proto__',
    'constructor',
  ),
);

/** A JSON object shaped like a position whose fields may hold anything. */
export function mangledPositionArb(now: number): fc.Arbitrary<Record<string, unknown>> {
  const anyValue = fc.oneof(fc.jsonValue({ maxDepth: 2 }), hostileTextArb);
  return fc
    .tuple(
      positionArb(now),
      fc.dictionary(
        fc.oneof(fc.constantFrom('vehicleId', 'ts', 'lat', 'lon', 'speed', 'attributes'), fc.string()),
        anyValue,
        { maxKeys: 3 },
      ),
    )
    .map(([p, overrides]) => ({ ...p, ...overrides }));
}
