import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { PositionRecord } from '../src/domain/records.js';
import { SinkError } from '../src/errors.js';
import type { WarehouseSink, WriteResult } from '../src/sinks/warehouse-sink.js';

export interface FaultyWarehouseOptions {
  /** Down while this says so. @default never */
  down?: () => boolean;
  /** Throughput cap: each write first waits batch size / this many seconds (a small warehouse). */
  recordsPerSecond?: number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * A warehouse that is down while `down()` says so: writes and pings reject with a retriable
 * SinkError (as a network outage or a locked file would) without touching the real sink, which
 * takes every write again once the outage ends. Optionally slow: a throughput cap makes it the
 * bottleneck of the processor. Test-only: injected through `startProcessor`'s `deps.warehouse` by
 * `processor-child.ts`; production code knows nothing about it.
 */
export class FaultyWarehouse implements WarehouseSink {
  readonly name: string;
  /** Writes refused during outages. */
  refused = 0;

  private readonly down: () => boolean;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly inner: WarehouseSink,
    private readonly options: FaultyWarehouseOptions = {},
  ) {
    this.name = inner.name;
    this.down = options.down ?? (() => false);
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  ready(): Promise<void> {
    return this.inner.ready();
  }

  async write(batch: readonly PositionRecord[]): Promise<WriteResult> {
    this.failIfDown('write');
    const cap = this.options.recordsPerSecond;
    if (cap) await this.sleep((batch.length / cap) * 1000);
    return this.inner.write(batch);
  }

  async ping(): Promise<void> {
    this.failIfDown('ping');
    return this.inner.ping();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private failIfDown(operation: string): void {
    if (!this.down()) return;
    this.refused++;
    throw new SinkError(this.name, `${operation} failed: injected outage`, { retriable: true });
  }
}

/** An outage switch another process flips: down while `file` exists. */
export function outageWhileFileExists(file: string): () => boolean {
  return () => existsSync(file);
}

/** Node entry running `fleet process` with a {@link FaultyWarehouse} (see processor-child.ts). */
export const FAULTY_PROCESSOR = fileURLToPath(new URL('./processor-child.ts', import.meta.url));
