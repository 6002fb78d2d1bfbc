import { describe, expect, it } from 'vitest';
import { Backpressure } from '../../src/sources/backpressure.js';
import { CommitTracker, nextOffset } from '../../src/sources/commit-tracker.js';

function tracker(highWaterBytes = 1000) {
  const backpressure = new Backpressure({ highWaterBytes });
  let durableCalls = 0;
  const t = new CommitTracker({ backpressure, onDurable: () => durableCalls++ });
  return { t, backpressure, durableCalls: () => durableCalls };
}

const offsets = (t: CommitTracker) =>
  Object.fromEntries(t.committable().map((o) => [`${o.topic}/${o.partition}`, o.offset]));

describe('CommitTracker', () => {
  it('commits last durable + 1 once every holder released the chunk', () => {
    const { t, durableCalls } = tracker();
    const chunk = t.openTicket('t', 0, '0', '9', 100);
    chunk.hold(); // table
    chunk.hold(); // warehouse
    chunk.seal();
    chunk.release();
    expect(offsets(t)).toEqual({});
    chunk.release();
    expect(offsets(t)).toEqual({ 't/0': '10' });
    expect(durableCalls()).toBe(1);
  });

  it('does not complete before sealing, and completes an unheld chunk at seal', () => {
    const { t } = tracker();
    const a = t.openTicket('t', 0, '0', '4', 10);
    a.hold();
    a.release(); // released before routing finished (cannot happen in the pipeline, but must be safe)
    expect(offsets(t)).toEqual({});
    a.seal();
    expect(offsets(t)).toEqual({ 't/0': '5' });
    const empty = t.openTicket('t', 0, '5', '7', 10);
    empty.seal();
    expect(offsets(t)).toEqual({ 't/0': '8' });
  });

  it('commits only the contiguous durable prefix when acknowledgements arrive out of order', () => {
    const { t } = tracker();
    const [a, b, c] = [
      t.openTicket('t', 0, '0', '9', 10),
      t.openTicket('t', 0, '10', '19', 10),
      t.openTicket('t', 0, '25', '30', 10), // gap 20..24: compacted away
    ];
    for (const x of [a, b, c]) {
      x.hold();
      x.seal();
    }
    c.release();
    b.release();
    expect(offsets(t)).toEqual({});
    a.release();
    expect(offsets(t)).toEqual({ 't/0': '31' });
  });

  it('tracks partitions independently and reports only what changed since the last commit', () => {
    const { t } = tracker();
    const p0 = t.openTicket('t', 0, '0', '0', 1);
    const p1 = t.openTicket('t', 1, '100', '199', 1);
    const p0b = t.openTicket('t', 0, '1', '1', 1);
    [p0, p1, p0b].forEach((x) => x.seal());
    expect(offsets(t)).toEqual({ 't/0': '2', 't/1': '200' });
    t.markCommitted(t.committable());
    expect(t.committable()).toEqual([]);
    const p1b = t.openTicket('t', 1, '200', '200', 1);
    p1b.seal();
    expect(offsets(t)).toEqual({ 't/1': '201' });
  });

  it('accounts unflushed bytes until completion, and resolves whenIdle', async () => {
    const { t, backpressure } = tracker(100);
    const a = t.openTicket('t', 0, '0', '0', 60);
    const b = t.openTicket('t', 0, '1', '1', 60);
    a.hold();
    b.hold();
    a.seal();
    b.seal();
    expect(backpressure.bytes).toBe(120);
    expect(backpressure.saturated).toBe(true);
    let idle = false;
    const whenIdle = t.whenIdle().then(() => (idle = true));
    a.release();
    expect(backpressure.bytes).toBe(60);
    await Promise.resolve();
    expect(idle).toBe(false);
    b.release();
    await whenIdle;
    expect(backpressure.bytes).toBe(0);
    expect(t.openTickets).toBe(0);
  });

  it('on rebalance keeps the partitions still owned and forgets revoked ones (they only free bytes)', () => {
    const { t, backpressure } = tracker();
    const kept = t.openTicket('t', 0, '0', '49', 10);
    const revoked = t.openTicket('t', 1, '0', '29', 10);
    [kept, revoked].forEach((x) => (x.hold(), x.seal()));

    // New generation: this member keeps partition 0, loses partition 1.
    expect(t.retain('t', [0, 2])).toEqual([{ topic: 't', partition: 0, offset: '50' }]);
    revoked.release();
    expect(offsets(t)).toEqual({});
    expect(backpressure.bytes).toBe(10);
    kept.release(); // still counts: reading of partition 0 continues at 50, not at the last commit
    expect(offsets(t)).toEqual({ 't/0': '50' });

    // Partition 1 comes back later: it starts afresh from wherever the source reads it.
    const back = t.openTicket('t', 1, '10', '19', 1);
    back.seal();
    expect(offsets(t)).toEqual({ 't/0': '50', 't/1': '20' });

    t.reset();
    expect(t.committable()).toEqual([]);
  });

  it('starts a partition afresh when reading goes back before the previous chunk', () => {
    const { t } = tracker();
    const a = t.openTicket('t', 0, '0', '9', 1);
    const b = t.openTicket('t', 0, '10', '19', 1);
    [a, b].forEach((x) => (x.hold(), x.seal()));
    const again = t.openTicket('t', 0, '10', '14', 1); // seek back to 10 (e.g. restart from commit)
    again.hold();
    again.seal();
    b.release(); // old lane: would have waited for a anyway
    a.release();
    expect(offsets(t)).toEqual({});
    again.release();
    expect(offsets(t)).toEqual({ 't/0': '15' });
  });

  it('stops reporting offsets once frozen (fatal error)', () => {
    const { t } = tracker();
    const a = t.openTicket('t', 0, '0', '0', 1);
    t.freeze();
    a.seal();
    expect(t.committable()).toEqual([]);
  });

  it('rejects unbalanced acknowledgements loudly', () => {
    const { t } = tracker();
    const a = t.openTicket('t', 0, '0', '0', 1);
    expect(() => a.release()).toThrow(/released too often/);
    a.seal();
    expect(() => a.hold()).toThrow(/after completion/);
  });

  it('handles int64 offsets beyond 2^53', () => {
    expect(nextOffset('9007199254740993')).toBe('9007199254740994');
  });
});

describe('Backpressure', () => {
  it('saturates at the high-water mark and drains below the low-water mark', async () => {
    const bp = new Backpressure({ highWaterBytes: 100, lowWaterBytes: 40 });
    bp.add(100);
    expect(bp.saturated).toBe(true);
    let resumed = false;
    const waiting = bp.whenDrained().then(() => (resumed = true));
    bp.remove(50); // 50: no longer saturated but not drained either
    expect(bp.saturated).toBe(false);
    await Promise.resolve();
    expect(resumed).toBe(false);
    bp.remove(20); // 30 < 40
    await waiting;
    expect(resumed).toBe(true);
    await expect(bp.whenDrained()).resolves.toBeUndefined();
  });

  it('wakes waiters on demand (shutdown) and refuses negative accounting', async () => {
    const bp = new Backpressure({ highWaterBytes: 10 });
    bp.add(10);
    const waiting = bp.whenDrained();
    bp.wake();
    await expect(waiting).resolves.toBeUndefined();
    expect(() => bp.remove(11)).toThrow(/negative/);
  });

  it('also saturates on records in flight, and drains below half of them', async () => {
    const bp = new Backpressure({ highWaterBytes: 1e9, highWaterRecords: 100 });
    const t = new CommitTracker({ backpressure: bp });
    const chunks = [0, 1, 2, 3].map((i) => t.openTicket('t', 0, String(i * 25), String(i * 25 + 24), 10, 25));
    chunks.forEach((c) => (c.hold(), c.seal()));
    expect(bp.records).toBe(100);
    expect(bp.saturated).toBe(true);
    chunks[0]!.release();
    expect(bp.saturated).toBe(false);
    expect(bp.drained).toBe(false); // 75 records: not below 50 yet
    chunks[1]!.release();
    chunks[2]!.release();
    expect(bp.drained).toBe(true);
    await expect(bp.whenDrained()).resolves.toBeUndefined();
  });
});
