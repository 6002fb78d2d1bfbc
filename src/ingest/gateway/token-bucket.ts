import type { RateLimit } from '../../config/gateway.js';

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Token buckets by key (a device id, a source address): each holds at most `burst` tokens and
 * gains `ratePerS` per second; a request takes one. Idle buckets (full again) are forgotten, so
 * memory follows the keys active within the last `burst / ratePerS` seconds.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private lastSweep: number;

  constructor(
    private readonly limit: RateLimit,
    private readonly now: () => number = Date.now,
  ) {
    if (!(limit.burst >= 1)) throw new RangeError(`burst must be >= 1 (got ${limit.burst})`);
    if (!(limit.ratePerS >= 0)) throw new RangeError(`ratePerS must be >= 0 (got ${limit.ratePerS})`);
    this.lastSweep = now();
  }

  /** Whether the limit is on (rate 0 = unlimited). */
  get enabled(): boolean {
    return this.limit.ratePerS > 0;
  }

  /**
   * Takes a token for `key`. Returns 0 when granted, else the seconds until one is available
   * (for `Retry-After`, at least 1).
   */
  take(key: string): number {
    if (!this.enabled) return 0;
    const now = this.now();
    this.sweep(now);
    const bucket = this.refill(this.buckets.get(key), now);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      this.buckets.set(key, bucket);
      return 0;
    }
    this.buckets.set(key, bucket);
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.limit.ratePerS));
  }

  /** Keys currently tracked (tests, metrics). */
  get size(): number {
    return this.buckets.size;
  }

  private refill(bucket: Bucket | undefined, now: number): Bucket {
    if (!bucket) return { tokens: this.limit.burst, at: now };
    const gained = (Math.max(0, now - bucket.at) / 1000) * this.limit.ratePerS;
    return { tokens: Math.min(this.limit.burst, bucket.tokens + gained), at: now };
  }

  /** At most once per refill period: drop the buckets that are full again. */
  private sweep(now: number): void {
    const fullAfterMs = (this.limit.burst / this.limit.ratePerS) * 1000;
    if (now - this.lastSweep < Math.max(1000, fullAfterMs)) return;
    this.lastSweep = now;
    for (const [key, bucket] of this.buckets) {
      if (now - bucket.at >= fullAfterMs) this.buckets.delete(key);
    }
  }
}
