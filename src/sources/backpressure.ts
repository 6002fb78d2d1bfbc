/**
 * Counts what was handed downstream but is not yet durable in every sink — bytes, and records —
 * and tells the source when to stop fetching (either at its high-water mark) and when to start
 * again (both below their low-water marks). The gap between the marks keeps the consumer from
 * flapping between pause and resume on every flush.
 */
export interface BackpressureOptions {
  /** Pause at this many unflushed bytes (MAX_UNFLUSHED_BYTES). */
  highWaterBytes: number;
  /** Resume below this many. @default highWaterBytes / 2 */
  lowWaterBytes?: number;
  /**
   * Pause at this many unflushed records too: decoded records take several times their encoded
   * size in memory, so this bounds the heap when records are small. @default Infinity
   */
  highWaterRecords?: number;
}

export class Backpressure {
  readonly highWaterBytes: number;
  readonly lowWaterBytes: number;
  readonly highWaterRecords: number;
  private currentBytes = 0;
  private currentRecords = 0;
  private waiters: (() => void)[] = [];

  constructor(options: BackpressureOptions) {
    this.highWaterBytes = options.highWaterBytes;
    this.lowWaterBytes = Math.min(
      options.lowWaterBytes ?? Math.floor(options.highWaterBytes / 2),
      options.highWaterBytes,
    );
    this.highWaterRecords = options.highWaterRecords ?? Infinity;
  }

  /** Bytes currently in flight. */
  get bytes(): number {
    return this.currentBytes;
  }

  /** Records currently in flight. */
  get records(): number {
    return this.currentRecords;
  }

  /** True when the source must not hand anything more downstream. */
  get saturated(): boolean {
    return this.currentBytes >= this.highWaterBytes || this.currentRecords >= this.highWaterRecords;
  }

  /** True once enough has drained to resume after a pause. */
  get drained(): boolean {
    return this.currentBytes < this.lowWaterBytes && this.currentRecords < this.highWaterRecords / 2;
  }

  add(bytes: number, records = 0): void {
    this.currentBytes += bytes;
    this.currentRecords += records;
  }

  remove(bytes: number, records = 0): void {
    this.currentBytes -= bytes;
    this.currentRecords -= records;
    if (this.currentBytes < 0 || this.currentRecords < 0) {
      throw new Error(
        `backpressure accounting went negative (${this.currentBytes} bytes, ${this.currentRecords} records)`,
      );
    }
    if (this.waiters.length > 0 && this.drained) this.wake();
  }

  /** Resolves once below the low-water marks (at once when already there) or on `wake()`. */
  whenDrained(): Promise<void> {
    if (this.drained) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Releases every waiter (shutdown, rebalance): they re-check their own conditions. */
  wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}
