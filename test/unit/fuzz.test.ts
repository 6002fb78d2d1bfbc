import { describe, expect, it } from 'vitest';
import { apiProperties } from '../../faults/fuzz-api.js';
import { onlyOurErrors } from '../../faults/fuzz-arbitraries.js';
import { inputProperties } from '../../faults/fuzz-properties.js';
import { DecodeError, ValidationError } from '../../src/errors.js';

/**
 * The property-based fuzz (fast-check) with a fixed seed and modest runs, so CI is fast and any
 * failure replays; `npm run faults -- --only property-fuzz --seed <n> --fuzz-runs <n>` runs longer.
 */
const SEED = 19;

describe('property-based fuzz of the input parsers (fast-check, seed 19)', () => {
  for (const property of inputProperties) {
    it(property.name, () => property.check({ seed: SEED, numRuns: 300 }));
  }
});

describe('property-based fuzz of the query API (fast-check, seed 19)', () => {
  for (const property of apiProperties) {
    it(property.name, () => property.check({ seed: SEED, numRuns: 150 }), 120_000);
  }
});

describe('the fuzz harness', () => {
  it('passes our input errors and lets every other error through', () => {
    expect(onlyOurErrors(() => 1)).toBe(1);
    expect(
      onlyOurErrors(() => {
        throw new ValidationError([{ path: 'lat', message: 'bad' }]);
      }),
    ).toBeUndefined();
    expect(
      onlyOurErrors(() => {
        throw new DecodeError('not JSON');
      }),
    ).toBeUndefined();
    expect(() =>
      onlyOurErrors(() => {
        throw new TypeError('a bug');
      }),
    ).toThrowError(TypeError);
  });
});
