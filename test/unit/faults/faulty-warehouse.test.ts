import { describe, expect, it } from 'vitest';
import { FaultyWarehouse } from '../../../faults/faulty-warehouse.js';
import type { PositionRecord } from '../../../src/domain/records.js';
import { SinkError } from '../../../src/errors.js';
import type { WarehouseSink, WriteResult } from '../../../src/sinks/warehouse-sink.js';

/** A warehouse port double that records what reached it. */
function recordingSink(): WarehouseSink & { written: number; pings: number } {
  return {
    name: 'fake',
    written: 0,
    pings: 0,
    async ready() {},
    async write(batch): Promise<WriteResult> {
      this.written += batch.length;
      return { inserted: batch.length, duplicates: 0, positionDuplicates: 0 };
    },
    async ping() {
      this.pings++;
    },
    async close() {},
  };
}

const batch = (n: number) => Array.from({ length: n }, () => ({}) as PositionRecord);

describe('FaultyWarehouse', () => {
  it('refuses writes and pings with a retriable SinkError while down, without touching the sink', async () => {
    let down = true;
    const inner = recordingSink();
    const faulty = new FaultyWarehouse(inner, { down: () => down });
    const err = await faulty.write(batch(3)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SinkError);
    expect((err as SinkError).retriable).toBe(true);
    await expect(faulty.ping()).rejects.toThrow(/injected outage/);
    expect(inner.written).toBe(0);
    expect(faulty.refused).toBe(2);
    down = false;
    await expect(faulty.write(batch(3))).resolves.toEqual({
      inserted: 3,
      duplicates: 0,
      positionDuplicates: 0,
    });
    await faulty.ping();
    expect(inner.written).toBe(3);
    expect(inner.pings).toBe(1);
  });

  it('caps throughput: each write first waits batch size / records per second', async () => {
    const waits: number[] = [];
    const faulty = new FaultyWarehouse(recordingSink(), {
      recordsPerSecond: 2000,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    await faulty.write(batch(1000));
    await faulty.write(batch(50));
    expect(waits).toEqual([500, 25]);
  });
});
