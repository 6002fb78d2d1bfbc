import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { VehicleState } from '../../src/state/latest-state-table.js';
import {
  defaultReplicaMaxVehicles,
  isNewerState,
  ReplicatedStateTable,
} from '../../src/state/replicated-state-table.js';
import type { StateFeed, StateFeedListener } from '../../src/state/state-feed.js';
import { FakeStateTable } from '../support/api-fakes.js';

const state = (id: string, ts: number, partition = 0, offset = '1', lat = 1): VehicleState => ({
  vehicleId: id,
  ts,
  lat,
  lon: 2,
  partition,
  offset,
  updatedAt: 1000,
});

/**
 * A fake of our feed port over a FakeStateTable: `scan` yields the table's states in batches of
 * one, calling `betweenBatches` after each (to interleave changes with a scan, as Redis can).
 */
class FakeFeed implements StateFeed {
  listener: StateFeedListener | undefined;
  subscribes = 0;
  scans = 0;
  failScans = 0;
  closed = false;
  betweenBatches: ((index: number) => void) | undefined;

  constructor(private readonly table: FakeStateTable) {}

  async follow(listener: StateFeedListener): Promise<void> {
    this.listener = listener;
    this.subscribes++;
  }
  async resubscribe(): Promise<void> {
    this.subscribes++;
  }
  async scan(onBatch: (states: VehicleState[]) => void): Promise<void> {
    this.scans++;
    if (this.failScans > 0) {
      this.failScans--;
      throw new Error('redis down');
    }
    const snapshot = [...this.table.vehicles.values()];
    for (const [i, s] of snapshot.entries()) {
      await Promise.resolve();
      onBatch([s]);
      this.betweenBatches?.(i);
    }
  }
  async close(): Promise<void> {
    this.closed = true;
  }
  /** Redis applied `s` and published it. */
  publish(table: FakeStateTable, s: VehicleState): void {
    table.vehicles.set(s.vehicleId, s);
    this.listener?.change(s);
  }
}

async function started(maxVehicles = 100) {
  const table = new FakeStateTable();
  const feed = new FakeFeed(table);
  const replica = new ReplicatedStateTable({
    table,
    feed,
    maxVehicles,
    registry: new Registry(),
    retryDelayMs: 1,
  });
  return { table, feed, replica };
}

describe('isNewerState (the upsert script forward rule)', () => {
  it('orders by event time, then by offset within one partition; never across partitions at equal ts', () => {
    expect(isNewerState(state('a', 2), state('a', 1))).toBe(true);
    expect(isNewerState(state('a', 1), state('a', 2))).toBe(false);
    expect(isNewerState(state('a', 1, 0, '10'), state('a', 1, 0, '9'))).toBe(true);
    expect(isNewerState(state('a', 1, 0, '9'), state('a', 1, 0, '10'))).toBe(false);
    expect(isNewerState(state('a', 1, 0, '5'), state('a', 1, 0, '5'))).toBe(false);
    expect(isNewerState(state('a', 1, 1, '99'), state('a', 1, 0, '5'))).toBe(false);
  });
});

describe('ReplicatedStateTable', () => {
  it('answers from Redis until the first scan completes, then from memory', async () => {
    const { table, feed, replica } = await started();
    table.put(state('v1', 10), state('v2', 10));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const scan = feed.scan.bind(feed);
    feed.scan = async (onBatch) => {
      await gate;
      return scan(onBatch);
    };
    await replica.start();
    expect(replica.phase).toBe('syncing');
    table.put(state('v1', 11));
    expect((await replica.get('v1'))?.ts).toBe(11);
    release();
    await replica.synced();
    expect(replica.phase).toBe('ready');
    expect(feed.subscribes).toBeGreaterThanOrEqual(1);
    // Redis changing behind the feed's back is not seen: the answer comes from memory.
    table.vehicles.set('v1', state('v1', 99));
    expect((await replica.get('v1'))?.ts).toBe(11);
    expect(replica.size).toBe(2);
  });

  it('applies newer changes, ignores late (older) ones and equal-ts changes of another partition', async () => {
    const { table, feed, replica } = await started();
    table.put(state('v1', 10, 0, '5'));
    await replica.start();
    await replica.synced();
    feed.listener!.change(state('v1', 20, 0, '6'));
    expect((await replica.get('v1'))?.ts).toBe(20);
    feed.listener!.change(state('v1', 15, 0, '7'));
    expect((await replica.get('v1'))?.offset).toBe('6');
    feed.listener!.change(state('v1', 20, 1, '9'));
    expect((await replica.get('v1'))?.partition).toBe(0);
    feed.listener!.change(state('v1', 20, 0, '10'));
    expect((await replica.get('v1'))?.offset).toBe('10');
  });

  it('a scan entry read before a change never undoes it, and a change older than the scan is ignored', async () => {
    const { table, feed, replica } = await started();
    table.put(state('a', 10), state('b', 10), state('c', 10));
    feed.betweenBatches = (i) => {
      // After 'a' was scanned: a late message for 'a', older than its scanned state, arrives; and
      // 'c' moves to 30, while the scan delivers the value it read before that (10) afterwards.
      if (i === 0) {
        feed.listener!.change(state('a', 5));
        feed.listener!.change(state('c', 30));
      }
    };
    const scan = feed.scan.bind(feed);
    feed.scan = (onBatch) =>
      scan((batch) => onBatch(batch.map((s) => (s.vehicleId === 'c' ? state('c', 10) : s))));
    await replica.start();
    await replica.synced();
    expect((await replica.get('a'))?.ts).toBe(10);
    expect((await replica.get('c'))?.ts).toBe(30);
  });

  it('on a feed loss, reads go to Redis at once; the resync replaces what went stale and drops what Redis lost', async () => {
    const { table, feed, replica } = await started();
    table.put(state('v1', 10), state('gone', 10), state('ahead', 10));
    await replica.start();
    await replica.synced();
    feed.listener!.change(state('ahead', 50)); // Redis later restarts with an older copy
    table.vehicles.delete('gone');
    table.put(state('v1', 20), state('ahead', 40)); // changes the feed never delivered
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const scan = feed.scan.bind(feed);
    feed.scan = async (onBatch) => {
      await gate;
      return scan(onBatch);
    };
    feed.listener!.lost('subscriber connection closed');
    expect(replica.phase).toBe('syncing');
    expect((await replica.get('v1'))?.ts).toBe(20);
    release();
    await replica.synced();
    expect(replica.phase).toBe('ready');
    table.vehicles.clear(); // from now on only memory can answer
    expect((await replica.get('v1'))?.ts).toBe(20);
    expect((await replica.get('ahead'))?.ts).toBe(40);
    expect(replica.size).toBe(2);
    expect(await replica.get('gone')).toBeNull();
  });

  it('retries a failed scan, and a loss during a scan restarts it', async () => {
    const { table, feed, replica } = await started();
    table.put(state('v1', 10), state('v2', 10));
    feed.failScans = 2;
    await replica.start();
    await replica.synced();
    expect(feed.scans).toBe(3);
    expect(replica.phase).toBe('ready');

    let losses = 0;
    feed.betweenBatches = () => {
      if (losses++ === 0) feed.listener!.lost('shard subscriber replaced');
    };
    feed.listener!.lost('subscriber connection closed');
    await replica.synced();
    await new Promise((r) => setTimeout(r, 5));
    await replica.synced();
    expect(feed.scans).toBe(5);
    expect(replica.phase).toBe('ready');
  });

  it('misses go to Redis; getMany mixes memory and Redis in order', async () => {
    const { table, feed, replica } = await started();
    table.put(state('v1', 10));
    await replica.start();
    await replica.synced();
    table.put(state('late', 7)); // in Redis, its change not yet delivered
    table.vehicles.set('v1', state('v1', 99));
    expect((await replica.get('late'))?.ts).toBe(7);
    const many = await replica.getMany(['late', 'v1', 'none']);
    expect(many.map((s) => s?.ts ?? null)).toEqual([7, 10, null]);
    expect(feed.closed).toBe(false);
  });

  it('turns itself off beyond maxVehicles: memory freed, feed closed, reads from Redis', async () => {
    const { table, feed, replica } = await started(2);
    table.put(state('v1', 10), state('v2', 10));
    await replica.start();
    await replica.synced();
    expect(replica.phase).toBe('ready');
    feed.listener!.change(state('v3', 10));
    expect(replica.phase).toBe('off');
    expect(replica.size).toBe(0);
    expect(feed.closed).toBe(true);
    table.put(state('v1', 77));
    expect((await replica.get('v1'))?.ts).toBe(77);
  });

  it('sizes the default from the heap limit (a quarter at 420 B per vehicle)', () => {
    expect(defaultReplicaMaxVehicles(128 * 1024 * 1024)).toBe(79_891);
  });
});
