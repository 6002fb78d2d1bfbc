import { freePort } from '../src/local/processes.js';
import { sleep } from '../src/retry.js';
import type { FleetChild } from './children.js';
import { drive } from './driver.js';
import { seededRandom } from './fuzz.js';
import { AckLedger } from './ledger.js';
import { scrapeMetrics } from './probe.js';
import { check, seconds, type Scenario } from './scenario.js';
import { Stage } from './stage.js';
import { workloadPlan } from './workload.js';

/** Settings every scenario's processor children run with (see faults/README.md). */
export const PROCESSOR_ENV = {
  // A SIGKILLed member keeps its partitions until its session expires; 6 s is the broker's minimum.
  SESSION_TIMEOUT_MS: '6000',
  HEARTBEAT_INTERVAL_MS: '1000',
  BATCH_MAX_WAIT_MS: '1000',
};

/** Records read and offset commits of a processor so far, from its /metrics. */
async function progress(port: number): Promise<{ read: number; commits: number } | undefined> {
  const m = await scrapeMetrics(port).catch(() => undefined);
  return (
    m && {
      read: m.get('fleet_processor_records_in_total') ?? 0,
      commits: m.get('fleet_processor_commits_total') ?? 0,
    }
  );
}

/**
 * Resolves once the processor has read records (`want: 'read'`) or serves its /metrics at all
 * (`'up'`), or has exited (the caller counts that); throws after `timeoutMs`.
 */
export async function working(
  child: FleetChild,
  port: number,
  timeoutMs: number,
  want: 'read' | 'up',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (child.alive) {
    const at = await progress(port);
    if (at && (want === 'up' || at.read > 0)) return;
    if (Date.now() > deadline)
      throw new Error(
        `${child.name} not ${want === 'up' ? 'serving /metrics' : 'reading'} after ${timeoutMs} ms:\n${child.tail()}`,
      );
    await sleep(200);
  }
}

/**
 * 1. `fleet process` is SIGKILLed at random moments (at least 10 times) while positions flow; a
 * new one is started after each kill. Most kills wait until the new processor is reading, then a
 * random while (so they land mid-batch, mid-write or between write and commit); the rest hit at
 * any moment (start-up, group join). Afterwards the warehouse must hold every acknowledged
 * position exactly once and Redis the newest position of every vehicle.
 */
export const processorCrashes: Scenario = {
  id: 'processor-crashes',
  number: 1,
  title: 'Processor crashes: SIGKILL `fleet process` at random moments while positions flow',
  async run(ctx) {
    const services = await ctx.services(1);
    const stage = new Stage(ctx, services, 'crashes', PROCESSOR_ENV);
    await stage.setUp();
    const total = ctx.quick ? 200_000 : 1_000_000;
    const rate = ctx.quick ? 2500 : 7000;
    const minKills = ctx.quick ? 10 : 12;
    const workMs = ctx.quick ? 2500 : 6000;
    const plan = workloadPlan({ total, vehicles: ctx.quick ? 500 : 2000 });
    const ledger = new AckLedger(total);
    const random = seededRandom(ctx.seed ^ 0x51);
    const publisher = stage.publisher(ctx.logger);
    try {
      await publisher.connect();
      let producing = true;
      const production = drive({ plan, publisher, ledger, batch: 1000, rate: () => rate }).finally(
        () => (producing = false),
      );
      const kills: string[] = [];
      let diedAlone = 0;
      let midWork = 0;
      const t0 = Date.now();
      let processor: FleetChild;
      let lastPort = 0;
      let endKills: (() => void) | undefined;
      for (;;) {
        const port = await freePort();
        lastPort = port;
        processor = stage.start(['process'], { METRICS_PORT: String(port) });
        if (kills.length >= minKills && !producing) break;
        // The first kill only once a processor has joined and committed: before that it tests nothing.
        if (kills.length === 0) await stage.committedOnce(120_000, processor);
        const anyMoment = random() < 0.25;
        if (anyMoment) await sleep(random() * (ctx.quick ? 5000 : 8000));
        else {
          await working(processor, port, 60_000, 'read');
          await sleep(random() * workMs);
        }
        endKills ??= ctx.faults.open('processor SIGKILLs');
        const at = await progress(port);
        if (!processor.alive) {
          diedAlone++;
          ctx.say(`processor exited by itself: ${JSON.stringify(processor.exitInfo)}\n${processor.tail(5)}`);
        }
        await processor.kill();
        if ((at?.read ?? 0) > 0) midWork++;
        kills.push(`${seconds(Date.now() - t0)}${at ? ` (read ${at.read}, ${at.commits} commits)` : ''}`);
      }
      endKills?.();
      // The last one must be up (serving /metrics) before it is asked to drain and stop.
      await working(processor, lastPort, 60_000, 'up');
      const produced = await production;
      ctx.say(
        `${kills.length} kills; produced ${produced.published} in ${seconds(produced.durationMs)}; draining`,
      );
      const drainMs = await stage.drained(ctx.quick ? 180_000 : 600_000, processor);
      const stopped = await processor.stop();
      const verdict = await stage.verify(plan, ledger, await stage.rows());
      return {
        figures: verdict.figures,
        checks: [
          check(
            'processor SIGKILLed at least 10 times while positions flowed',
            kills.length >= 10 && midWork >= kills.length / 2,
            `${kills.length} kills, ${midWork} of them while it was processing`,
          ),
          check('no processor died on its own', diedAlone === 0, `${diedAlone} unexpected exits`),
          check(
            'the last processor drained and stopped cleanly on SIGTERM',
            stopped.graceful,
            JSON.stringify(stopped.exit),
          ),
          ...verdict.checks,
        ],
        notes: [
          `kills at ${kills.join(', ')}`,
          `production ${Math.round(produced.published / (produced.durationMs / 1000))}/s for ${seconds(produced.durationMs)}; final drain ${seconds(drainMs)}`,
          ...verdict.notes,
        ],
      };
    } finally {
      await publisher.close().catch(() => undefined);
      await stage.tearDown();
    }
  },
};
