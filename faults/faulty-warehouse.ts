import { existsSync } from 'node:fs';
import type { PositionRecord } from '../src/domain/records.js';
import { SinkError } from '../src/errors.js';
import type { WarehouseSink, WriteResult } from '../src/sinks/warehouse-sink.js';

/**
 * A warehouse that is down while `down()` says so: writes and pings reject with a retriable
 * SinkError (as a network outage or a locked file would) without touching the real sink, which
 * takes every write again once the outage ends. Test-only: injected through `startProcessor`'s
 * `deps.warehouse` by `processor-child.ts`; production code knows nothing about it.
 */
export class FaultyWarehouse implements WarehouseSink {
  readonly name: string;
  /** Writes refused during outages. */
  refused = 0;

  constructor(
    private readonly inner: WarehouseSink,
    private readonly down: () => boolean,
  ) {
    this.name = inner.name;
  }

  ready(): Promise<void> {
    return this.inner.ready();
  }

  async write(batch: readonly PositionRecord[]): Promise<WriteResult> {
    this.failIfDown('write');
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
