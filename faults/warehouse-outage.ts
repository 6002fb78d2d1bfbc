import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort } from '../src/local/processes.js';
import { sleep } from '../src/retry.js';
import type { FleetChild } from './children.js';
import type { LandedRow } from './checker.js';
import { committedOffsets } from './cluster.js';
import { drive } from './driver.js';
import { FAULTY_PROCESSOR } from './faulty-warehouse.js';
import { AckLedger } from './ledger.js';
import { PROCESSOR_ENV } from './processor-crashes.js';
import { heapCapEnv, memoryCheck, peakOf, probe } from './probe.js';
import { check, mib, seconds, type Check, type Scenario, type ScenarioContext } from './scenario.js';
import { Stage } from './stage.js';
import { recordBytes, workloadPlan } from './workload.js';

/** Small limits, so an outage's worth of positions is many times what may wait in memory. */
const BATCH_MAX_BYTES = 1024 * 1024;
const MAX_UNFLUSHED_BYTES = 4 * 1024 * 1024;

/** A warehouse the scenario can take down and read back. */
export interface OutageTarget {
  /** Environment of the processor child. */
  env: Record<string, string>;
  /** Node entry of the child instead of `fleet process`. */
  script?: string;
  /** What the outage looks like, for the report. */
  describe: string;
  down(ms: number): void;
  up(): void;
  rows(stage: Stage): Promise<LandedRow[]>;
  /** Smaller memory limits than the scenario's, for a target whose outage brings fewer positions. */
  limits?: { batchMaxBytes: number; maxUnflushedBytes: number };
  /** The target's own checks of the run (e.g. that each drawn fault hit requests). */
  checks?(): Check[];
  close(): Promise<void>;
}

/** DuckDB behind {@link FaultyWarehouse} (faults/processor-child.ts), switched by a flag file. */
function duckdbTarget(ctx: ScenarioContext): OutageTarget {
  const flag = path.join(ctx.runDir, 'warehouse-outage.flag');
  return {
    env: { WAREHOUSE: 'duckdb', FLEET_FAULT_WAREHOUSE_OUTAGE_FILE: flag },
    script: FAULTY_PROCESSOR,
    describe: 'every DuckDB write and ping fails (retriable SinkError)',
    down: (ms) => writeFileSync(flag, `outage for ${ms} ms\n`),
    up: () => rmSync(flag, { force: true }),
    rows: (stage) => stage.rows(),
    close: async () => rmSync(flag, { force: true }),
  };
}

/**
 * 4. Warehouse outage: every warehouse write fails (retriably) for 60 s (15 s in the quick run)
 * while positions keep coming. No offset may be committed during the outage, backpressure must
 * pause fetching so memory stays bounded, and after recovery every record must land exactly once.
 */
export function warehouseOutageScenario(options: {
  id: string;
  variant?: string;
  title: string;
  target: (ctx: ScenarioContext) => OutageTarget | Promise<OutageTarget>;
  fullOnly?: boolean;
}): Scenario {
  return {
    id: options.id,
    number: 4,
    ...(options.variant ? { variant: options.variant } : {}),
    ...(options.fullOnly ? { fullOnly: true } : {}),
    title: options.title,
    async run(ctx) {
      const services = await ctx.services(1);
      const metricsPort = await freePort();
      const target = await options.target(ctx);
      const maxUnflushedBytes = target.limits?.maxUnflushedBytes ?? MAX_UNFLUSHED_BYTES;
      const stage = new Stage(ctx, services, options.id.replace(/-/g, '_'), {
        ...PROCESSOR_ENV,
        BATCH_MAX_BYTES: String(target.limits?.batchMaxBytes ?? BATCH_MAX_BYTES),
        MAX_UNFLUSHED_BYTES: String(maxUnflushedBytes),
        METRICS_PORT: String(metricsPort),
        ...heapCapEnv(),
        ...target.env,
      });
      await stage.setUp();
      const outageMs = ctx.quick ? 15_000 : 60_000;
      const rate = ctx.quick ? 4000 : 3000;
      const durationMs = outageMs * 2 + 10_000;
      const total = Math.round((rate * durationMs) / 1000);
      const plan = workloadPlan({ total, vehicles: 1000 });
      const ledger = new AckLedger(total);
      const publisher = stage.publisher(ctx.logger);
      const checks: Check[] = [];
      try {
        await publisher.connect();
        const processor = stage.start(['process'], {}, target.script);
        // Not a vacuous wait: lag is 0 before anything is produced, so wait for the processor itself
        // (RUNNING, consuming) before the fault; a processor still starting would miss the outage.
        await processorRunning(metricsPort, processor, 120_000);
        const probed = probe(processor, { metricsPort });
        const driveStarted = rates(ledger, processor.pid);
        const production = drive({ plan, publisher, ledger, rate: () => rate });
        await sleep(5000);
        await stage.committedOnce(60_000, processor);

        const warehouseDown = ctx.faults.open(`warehouse down: ${target.describe}`);
        const beforeOutage = rates(ledger, processor.pid, driveStarted);
        target.down(outageMs);
        const downAt = probed.elapsed();
        ctx.say(`warehouse down for ${seconds(outageMs)}: ${target.describe}`);
        // A write that was already past the switch may still finish and commit; after that, nothing.
        await sleep(3000);
        const group = stage.config.consumer.groupId;
        const topic = stage.config.topic.name;
        const before = await committedOffsets(stage.admin, group, topic);
        const lagBefore = await stage.lag();
        await sleep(outageMs - 3000);
        const after = await committedOffsets(stage.admin, group, topic);
        const lagAfter = await stage.lag();
        const duringOutage = rates(ledger, processor.pid, beforeOutage);
        target.up();
        warehouseDown();
        const upAt = probed.elapsed();
        ctx.say('warehouse back');
        checks.push(check('no offset committed during the outage', before === after, `${before} → ${after}`));

        const produced = await production;
        const drainMs = await stage.drained(ctx.quick ? 180_000 : 300_000, processor);
        probed.stop();
        checks.push(
          check(
            'processor survived without a restart',
            processor.alive,
            `caught up ${seconds(drainMs)} after the flow ended`,
          ),
        );
        const during = probed.between(downAt, upAt);
        const inDuring = during.map((s) => s.recordsIn).filter((n): n is number => n !== undefined);
        const readDuring = inDuring.length > 1 ? inDuring.at(-1)! - inDuring[0]! : Number.NaN;
        const arrived = Math.round((rate * outageMs) / 1000);
        const unflushedPeak = peakOf(during.map((s) => s.unflushedBytes));
        // One fetch may land after the limit was reached: at most one fetch size per partition.
        const unflushedBound =
          maxUnflushedBytes + stage.config.topic.partitions * stage.config.consumer.fetchMaxBytesPerPartition;
        checks.push(
          check(
            'backpressure paused fetching during the outage',
            during.at(-1)?.paused === true && unflushedPeak <= unflushedBound,
            `paused in ${during.filter((s) => s.paused).length}/${during.length} samples (and at the end); ${readDuring} records read while ${duringOutage.acked} arrived (~${arrived} asked; ~${mib(duringOutage.acked * recordBytes(plan))} against the ${mib(maxUnflushedBytes)} limit); unflushed peak ${mib(unflushedPeak)} (bound ${mib(unflushedBound)})`,
          ),
          memoryCheck({
            samples: during,
            survived: processor.alive,
            maxUnflushedBytes,
            backlogRecords: lagAfter,
            recordBytes: recordBytes(plan),
          }),
        );
        const stopped = await processor.stop();
        checks.push(
          check('processor stopped cleanly on SIGTERM', stopped.graceful, JSON.stringify(stopped.exit)),
        );
        const verdict = await stage.verify(plan, ledger, await target.rows(stage));
        return {
          figures: verdict.figures,
          checks: [...checks, ...(target.checks?.() ?? []), ...verdict.checks],
          notes: [
            `outage: ${target.describe}`,
            `lag ${lagBefore} → ${lagAfter} during the outage; ${produced.published} published at ${rate}/s asked`,
            `acknowledged ${beforeOutage.perSecond}/s before the outage, ${duringOutage.perSecond}/s during it; processor CPU ${beforeOutage.cpu} before, ${duringOutage.cpu} during (of one core; the machine was shared)`,
            ...verdict.notes,
          ],
        };
      } finally {
        target.up();
        await publisher.close().catch(() => undefined);
        await stage.tearDown();
        await target.close();
      }
    },
  };
}

export const warehouseOutage = warehouseOutageScenario({
  id: 'warehouse-outage',
  title: 'Warehouse outage: DuckDB writes fail for 60 s while positions flow',
  target: duckdbTarget,
});

interface Rates {
  at: number;
  acked: number;
  cpuMs: number;
  /** Positions acknowledged per second since the previous mark. */
  perSecond: number;
  /** The processor's CPU share since the previous mark (one core = 100 %). */
  cpu: string;
}

/** Publish rate and the processor's CPU use since the mark `since` (a first mark without). */
function rates(ledger: AckLedger, pid: number, since?: Rates): Rates {
  const at = Date.now();
  const acked = ledger.counts().acknowledged;
  let cpuMs = Number.NaN;
  try {
    // utime and stime (fields 14, 15 of /proc/<pid>/stat), in clock ticks of 10 ms.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    cpuMs = (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    // The processor is gone: the survival check says so.
  }
  const elapsed = (at - (since?.at ?? at)) / 1000;
  const ackedNow = acked - (since?.acked ?? 0);
  const cpuShare = since ? (cpuMs - since.cpuMs) / 10 / elapsed : Number.NaN;
  return {
    at,
    acked: ackedNow,
    cpuMs,
    perSecond: Math.round(ackedNow / Math.max(elapsed, 0.001)),
    cpu: Number.isFinite(cpuShare) ? `${cpuShare.toFixed(0)} %` : 'n/a',
  };
}

/** Waits until the processor's /healthz answers 200 (state RUNNING); fails when it exits or times out. */
async function processorRunning(port: number, processor: FleetChild, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!processor.alive)
      throw new Error(`${processor.name} exited before it was running:\n${processor.tail()}`);
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${processor.name} not running after ${timeoutMs} ms`);
    await sleep(250);
  }
}
