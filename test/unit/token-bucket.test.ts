import { describe, expect, it } from 'vitest';
import { TokenBuckets } from '../../src/ingest/gateway/token-bucket.js';

describe('TokenBuckets', () => {
  it('grants a burst, then refuses with the seconds until the next token', () => {
    let now = 1_000_000;
    const buckets = new TokenBuckets({ ratePerS: 2, burst: 3 }, () => now);
    expect([buckets.take('a'), buckets.take('a'), buckets.take('a')]).toEqual([0, 0, 0]);
    expect(buckets.take('a')).toBe(1);
    // Keys are independent.
    expect(buckets.take('b')).toBe(0);
    now += 500; // +1 token at 2/s
    expect(buckets.take('a')).toBe(0);
    expect(buckets.take('a')).toBe(1);
  });

  it('answers Retry-After in whole seconds for slow rates', () => {
    let now = 0;
    const buckets = new TokenBuckets({ ratePerS: 0.1, burst: 1 }, () => now);
    expect(buckets.take('x')).toBe(0);
    expect(buckets.take('x')).toBe(10);
    now += 4000;
    expect(buckets.take('x')).toBe(6);
    now += 6000;
    expect(buckets.take('x')).toBe(0);
  });

  it('never saves more than the burst', () => {
    let now = 0;
    const buckets = new TokenBuckets({ ratePerS: 10, burst: 2 }, () => now);
    buckets.take('k');
    now += 60_000;
    expect([buckets.take('k'), buckets.take('k'), buckets.take('k')]).toEqual([0, 0, 1]);
  });

  it('rate 0 is no limit', () => {
    const buckets = new TokenBuckets({ ratePerS: 0, burst: 1 });
    for (let i = 0; i < 100; i++) expect(buckets.take('k')).toBe(0);
    expect(buckets.size).toBe(0);
  });

  it('forgets idle buckets once they are full again', () => {
    let now = 0;
    const buckets = new TokenBuckets({ ratePerS: 1, burst: 2 }, () => now);
    for (let i = 0; i < 50; i++) buckets.take(`addr-${i}`);
    expect(buckets.size).toBe(50);
    now += 2000;
    buckets.take('fresh');
    expect(buckets.size).toBe(1);
  });

  it('refuses a bad burst', () => {
    expect(() => new TokenBuckets({ ratePerS: 1, burst: 0 })).toThrow(/burst/);
  });
});
