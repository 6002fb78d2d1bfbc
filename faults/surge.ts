import { rushHourActivity } from '../src/ingest/simulator/profile.js';
import { sleep } from '../src/retry.js';
import { freePort } from '../src/local/processes.js';
import { drive, type RateProfile } from './driver.js';
import { FAULTY_PROCESSOR } from './faulty-warehouse.js';
import { AckLedger } from './ledger.js';
import { PROCESSOR_ENV } from './processor-crashes.js';
import { heapCapEnv, memoryCheck, peakOf, probe } from './probe.js';
import { check, mib, seconds, type Scenario } from './scenario.js';
import { Stage } from './stage.js';
import { recordBytes, workloadPlan } from './workload.js';

/**
 * The morning rush hour (05:00-11:00 of the simulator's traffic curve) squeezed into `durationMs`:
 * `base` positions/s at the quiet ends, 5 × `base` at the 08:00 peak.
 */
export function rushHourRate(base: number, durationMs: number): RateProfile {
  const hour = (t: number) => 5 + (6 * Math.min(Math.max(t, 0), durationMs)) / durationMs;
  const samples = Array.from({ length: 61 }, (_, i) => rushHourActivity(5 + i / 10));
  const lo = Math.min(...samples);
  const hi = Math.max(...samples);
  return (t) => base * (1 + (4 * (rushHourActivity(hour(t)) - lo)) / (hi - lo));
}

/** Expected positions of a profile over `durationMs` (trapezoid rule, 100 ms steps). */
export function positionsOf(rate: RateProfile, durationMs: number): number {
  let sum = 0;
  for (let t = 0; t < durationMs; t += 100) sum += (rate(t) + rate(t + 100)) / 2 / 10;
  return Math.round(sum);
}

const MAX_UNFLUSHED_BYTES = 32 * 1024 * 1024;

/**
 * 6. Slow consumer / surge: the rush-hour profile at 5× the normal rate against a processor whose
 * warehouse takes only 2.5× the normal rate (a small warehouse: FaultyWarehouse's throughput cap).
 * Lag must grow and then drain, the processor's memory stay bounded (backpressure pauses
 * fetching), nothing be lost.
 */
export const surge: Scenario = {
  id: 'surge',
  number: 6,
  title: 'Slow consumer / surge: rush hour at 5× the normal rate, warehouse capped at 2.5×',
  async run(ctx) {
    const services = await ctx.services(1);
    const metricsPort = await freePort();
    const base = ctx.quick ? 2000 : 3000;
    // The slow consumer: a warehouse that takes 2.5 × the normal rate, half the peak.
    const capacity = Math.round(base * 2.5);
    const stage = new Stage(ctx, services, 'surge', {
      ...PROCESSOR_ENV,
      MAX_UNFLUSHED_BYTES: String(MAX_UNFLUSHED_BYTES),
      METRICS_PORT: String(metricsPort),
      FLEET_FAULT_WAREHOUSE_RECORDS_PER_S: String(capacity),
      ...heapCapEnv(),
    });
    await stage.setUp();
    const durationMs = ctx.quick ? 50_000 : 180_000;
    const rate = rushHourRate(base, durationMs);
    const total = positionsOf(rate, durationMs) + base;
    const plan = workloadPlan({ total, vehicles: ctx.quick ? 1000 : 3000 });
    const ledger = new AckLedger(total);
    const publisher = stage.publisher(ctx.logger);
    try {
      await publisher.connect();
      const processor = stage.start(['process'], {}, FAULTY_PROCESSOR);
      const probed = probe(processor, { metricsPort });
      const lags: { t: number; lag: number }[] = [];
      const t0 = Date.now();
      let producing = true;
      const production = drive({ plan, publisher, ledger, rate, batch: 1000 }).finally(
        () => (producing = false),
      );
      // The profile starts at the normal rate: the processor must have joined and committed before
      // the rate climbs (the fault is the surge above normal and the slow warehouse under it).
      await stage.committedOnce(60_000, processor);
      const surging = ctx.faults.open('surge above the normal rate, until the lag drained');
      let drainedAt: number | undefined;
      while (producing || drainedAt === undefined) {
        await sleep(1000);
        const lag = await stage.lag().catch(() => Number.NaN);
        lags.push({ t: Date.now() - t0, lag });
        if (!producing && lag === 0) drainedAt = Date.now() - t0;
        if (!processor.alive) throw new Error(`processor exited during the surge:\n${processor.tail()}`);
        if (Date.now() - t0 > durationMs + 600_000) throw new Error(`lag ${lag} did not drain`);
      }
      surging();
      const produced = await production;
      probed.stop();
      const stopped = await processor.stop();
      const verdict = await stage.verify(plan, ledger, await stage.rows());
      const peak = lags.reduce((a, b) => (b.lag > a.lag ? b : a), { t: 0, lag: 0 });
      const peakUnflushed = peakOf(probed.samples.map((p) => p.unflushedBytes));
      const pausedSamples = probed.samples.filter((p) => p.paused).length;
      return {
        figures: verdict.figures,
        checks: [
          check(
            'lag grew during the surge',
            peak.lag >= base * 5,
            `peak lag ${peak.lag} at ${seconds(peak.t)} (peak rate at ${seconds(durationMs / 2)}; at least 5 s of normal traffic expected)`,
          ),
          check(
            'lag drained to 0 after the surge',
            drainedAt !== undefined,
            `drained at ${seconds(drainedAt ?? 0)}`,
          ),
          memoryCheck({
            samples: probed.samples,
            survived: stopped.exit.signal === null,
            maxUnflushedBytes: MAX_UNFLUSHED_BYTES,
            backlogRecords: peak.lag,
            recordBytes: recordBytes(plan),
          }),
          check('processor stopped cleanly on SIGTERM', stopped.graceful, JSON.stringify(stopped.exit)),
          ...verdict.checks,
        ],
        notes: [
          `slow consumer: the warehouse takes at most ${capacity} records/s`,
          `rate ${base}/s → ${Math.round(rate(durationMs * 0.5))}/s at the peak; published ${produced.published} in ${seconds(produced.durationMs)} (${Math.round(produced.published / (produced.durationMs / 1000))}/s avg)`,
          `backpressure: unflushed bytes peaked at ${mib(peakUnflushed)} (MAX_UNFLUSHED_BYTES ${mib(MAX_UNFLUSHED_BYTES)}); fetching paused in ${pausedSamples} of ${probed.samples.length} samples`,
          `lag every 10 s: ${lags
            .filter((_, i) => i % 10 === 0)
            .map((l) => l.lag)
            .join(' ')}`,
          ...verdict.notes,
        ],
      };
    } finally {
      await publisher.close().catch(() => undefined);
      await stage.tearDown();
    }
  },
};
