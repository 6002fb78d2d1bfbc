import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../src/local/processes.js';
import { sleep } from '../src/retry.js';
import { committedOffsets } from './cluster.js';
import { drive } from './driver.js';
import { AckLedger } from './ledger.js';
import { PROCESSOR_ENV } from './processor-crashes.js';
import { peakOf, probe } from './probe.js';
import { check, mib, seconds, type Check, type Scenario } from './scenario.js';
import { Stage } from './stage.js';
import { workloadPlan } from './workload.js';

const CHILD = fileURLToPath(new URL('./processor-child.ts', import.meta.url));

/** Small limits, so an outage's worth of positions is many times what may wait in memory. */
const BATCH_MAX_BYTES = 1024 * 1024;
const MAX_UNFLUSHED_BYTES = 4 * 1024 * 1024;

/**
 * 4. Warehouse outage: every warehouse write fails (retriably) for 60 s (15 s in the quick run)
 * while positions keep coming. No offset may be committed during the outage, backpressure must
 * pause fetching so memory stays bounded, and after recovery every record must land exactly once.
 */
export const warehouseOutage: Scenario = {
  id: 'warehouse-outage',
  number: 4,
  title: 'Warehouse outage: DuckDB writes fail for 60 s while positions flow',
  async run(ctx) {
    const services = await ctx.services(1);
    const metricsPort = await freePort();
    const outageFile = path.join(ctx.runDir, 'warehouse-outage.flag');
    const stage = new Stage(ctx, services, 'outage', {
      ...PROCESSOR_ENV,
      BATCH_MAX_BYTES: String(BATCH_MAX_BYTES),
      MAX_UNFLUSHED_BYTES: String(MAX_UNFLUSHED_BYTES),
      METRICS_PORT: String(metricsPort),
      FLEET_FAULT_WAREHOUSE_OUTAGE_FILE: outageFile,
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
      const processor = stage.start(['process'], {}, CHILD);
      await stage.drained(60_000, processor);
      const probed = probe(processor, { metricsPort });
      const production = drive({ plan, publisher, ledger, rate: () => rate });
      await sleep(5000);
      const baseline = probed.samples.at(-1)?.rss ?? 0;

      writeFileSync(outageFile, `outage for ${outageMs} ms\n`);
      const downAt = probed.elapsed();
      ctx.say(`warehouse down for ${seconds(outageMs)}`);
      // A write that was already past the switch may still finish and commit; after that, nothing.
      await sleep(3000);
      const group = stage.config.consumer.groupId;
      const topic = stage.config.topic.name;
      const before = await committedOffsets(stage.admin, group, topic);
      const lagBefore = await stage.lag();
      await sleep(outageMs - 3000);
      const after = await committedOffsets(stage.admin, group, topic);
      const lagAfter = await stage.lag();
      rmSync(outageFile, { force: true });
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
      const peakRss = peakOf(during.map((s) => s.rss));
      const bound = baseline + 4 * MAX_UNFLUSHED_BYTES + 96 * 1024 * 1024;
      const inDuring = during.map((s) => s.recordsIn).filter((n): n is number => n !== undefined);
      const fetchedDuring = inDuring.length > 1 ? inDuring.at(-1)! - inDuring[0]! : Number.NaN;
      const producedDuring = Math.round((rate * outageMs) / 1000);
      checks.push(
        check(
          'backpressure paused fetching during the outage',
          during.some((s) => s.paused) && fetchedDuring < producedDuring / 2,
          `paused in ${during.filter((s) => s.paused).length}/${during.length} samples; ${fetchedDuring} records read while ~${producedDuring} arrived; unflushed peak ${mib(peakOf(during.map((s) => s.unflushedBytes)))}`,
        ),
        check(
          'memory stayed bounded',
          peakRss <= bound,
          `RSS ${mib(baseline)} → peak ${mib(peakRss)} (bound ${mib(bound)})`,
        ),
      );
      const stopped = await processor.stop();
      checks.push(
        check('processor stopped cleanly on SIGTERM', stopped.graceful, JSON.stringify(stopped.exit)),
      );
      const verdict = await stage.verify(plan, ledger, await stage.rows());
      return {
        figures: verdict.figures,
        checks: [...checks, ...verdict.checks],
        notes: [
          `lag ${lagBefore} → ${lagAfter} during the outage; ${produced.published} published at ${rate}/s`,
          ...verdict.notes,
        ],
      };
    } finally {
      rmSync(outageFile, { force: true });
      await publisher.close().catch(() => undefined);
      await stage.tearDown();
    }
  },
};
