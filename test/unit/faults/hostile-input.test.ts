import { describe, expect, it } from 'vitest';
import { codecFor } from '../../../src/domain/codec.js';
import { fuzzMutations, fuzzRecords, seededRandom } from '../../../faults/fuzz.js';
import { hostileCorpus, type HostileRecord } from '../../../faults/hostile-corpus.js';

const now = Date.UTC(2026, 10, 25, 12, 0, 0);

/** Decodes like the processor's decode step does: codec by content-type, then schema and time bounds. */
function decodes(record: HostileRecord): boolean {
  try {
    const contentType = record.headers?.['content-type'];
    codecFor(contentType === undefined ? undefined : contentType.toString()).decode(record.value, { now });
    return true;
  } catch {
    return false;
  }
}

describe('hostile corpus', () => {
  const corpus = hostileCorpus('fx-', now);

  it('has unique case names and both kinds of expectation', () => {
    expect(new Set(corpus.map((c) => c.name)).size).toBe(corpus.length);
    expect(corpus.filter((c) => c.expect === 'dead-letter').length).toBeGreaterThan(50);
    expect(corpus.filter((c) => c.expect === 'valid').length).toBeGreaterThanOrEqual(5);
  });

  it.each(corpus.filter((c) => c.expect === 'dead-letter' && c.fault !== 'key').map((c) => [c.name, c]))(
    'the codec rejects %s',
    (_name, record) => {
      expect(decodes(record)).toBe(false);
    },
  );

  it('bad-key cases carry a valid value, so the key is their only fault', () => {
    const cases = corpus.filter((c) => c.fault === 'key');
    expect(cases.map((c) => c.name).sort()).toEqual([
      'enormous key',
      'key of another vehicle',
      'missing key',
    ]);
    for (const c of cases) {
      expect(decodes(c)).toBe(true);
      expect(c.key?.toString() ?? null).not.toBe(JSON.parse(c.value!.toString()).vehicleId);
    }
  });

  it.each(corpus.filter((c) => c.expect === 'valid').map((c) => [c.name, c]))(
    '%s decodes, its key being its vehicle id',
    (_name, record) => {
      expect(decodes(record)).toBe(true);
      expect(record.key?.toString()).toBe(JSON.parse(record.value!.toString()).vehicleId);
    },
  );
});

describe('fuzz generator', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const a = fuzzRecords({ seed: 7, count: 50, prefix: 'fz-', now });
    const b = fuzzRecords({ seed: 7, count: 50, prefix: 'fz-', now });
    const c = fuzzRecords({ seed: 8, count: 50, prefix: 'fz-', now });
    expect(a.map((r) => r.value?.toString('hex'))).toEqual(b.map((r) => r.value?.toString('hex')));
    expect(a.map((r) => r.value?.toString('hex'))).not.toEqual(c.map((r) => r.value?.toString('hex')));
  });

  it('every generated record is rejected by the codec (2000 records, all mutations used)', () => {
    const records = fuzzRecords({ seed: 20_251_125, count: 2000, prefix: 'fz-', now });
    const accepted = records.filter(decodes).map((r) => `${r.name}: ${r.value?.toString().slice(0, 200)}`);
    expect(accepted).toEqual([]);
    const used = new Set(records.map((r) => r.name.replace(/^.*: /, '')));
    expect([...used].sort()).toEqual([...fuzzMutations].sort());
  });

  it('the seeded random generator stays in [0, 1)', () => {
    const random = seededRandom(1);
    for (let i = 0; i < 10_000; i++) {
      const x = random();
      expect(x >= 0 && x < 1).toBe(true);
    }
  });
});
