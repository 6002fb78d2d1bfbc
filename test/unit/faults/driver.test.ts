import { describe, expect, it } from 'vitest';
import { drive, type AckingPublisher } from '../../../faults/driver.js';
import { AckLedger, Outcome } from '../../../faults/ledger.js';
import { workloadPlan } from '../../../faults/workload.js';
import type { Position } from '../../../src/domain/position.js';

const plan = workloadPlan({ total: 2000, vehicles: 20 });

/** A publisher double: acknowledges, except calls whose first position is in `failAt`. */
function fakePublisher(failAt: Set<number> = new Set()): AckingPublisher & { calls: Position[][] } {
  const calls: Position[][] = [];
  return {
    calls,
    async publish(positions) {
      const index = calls.push([...positions]) - 1;
      await Promise.resolve();
      if (failAt.has(index)) throw new Error('broker gone');
    },
    async close() {},
  };
}

describe('drive', () => {
  it('publishes every position once, in order, and records acknowledgements', async () => {
    const ledger = new AckLedger(plan.total);
    const publisher = fakePublisher();
    const result = await drive({ plan, publisher, ledger, batch: 300, maxInFlight: 3 });
    expect(result).toMatchObject({ published: 2000, failedCalls: 0 });
    const ids = publisher.calls.flat().map((p) => `${p.vehicleId}@${p.ts}`);
    expect(new Set(ids).size).toBe(2000);
    expect(ledger.counts()).toEqual({ produced: 2000, acknowledged: 2000, failed: 0, pending: 0 });
  });

  it('marks rejected calls failed and does not retry them', async () => {
    const ledger = new AckLedger(plan.total);
    const publisher = fakePublisher(new Set([1, 4]));
    const result = await drive({ plan, publisher, ledger, batch: 100 });
    expect(result.failedCalls).toBe(2);
    expect(result.lastError).toBe('broker gone');
    expect(publisher.calls).toHaveLength(20);
    expect(ledger.counts().failed).toBe(200);
    expect(ledger.outcome(150)).toBe(Outcome.failed);
    expect(ledger.outcome(250)).toBe(Outcome.acknowledged);
  });

  it('keeps to the rate profile on an injected clock', async () => {
    let clock = 0;
    const ledger = new AckLedger(plan.total);
    const publisher = fakePublisher();
    const result = await drive({
      plan,
      publisher,
      ledger,
      to: 1000,
      rate: (t) => (t < 1000 ? 200 : 800),
      now: () => clock,
      sleep: async (ms) => {
        clock += ms;
      },
    });
    expect(result.published).toBe(1000);
    // 200/s for the first second, then 800/s: 1000 positions take about 2 s of virtual time.
    expect(result.durationMs).toBeGreaterThan(1800);
    expect(result.durationMs).toBeLessThan(2300);
    expect(Math.max(...publisher.calls.map((c) => c.length))).toBeLessThanOrEqual(40);
  });
});
