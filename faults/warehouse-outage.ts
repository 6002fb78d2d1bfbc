import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort } from '../src/local/processes.js';
import { sleep } from '../src/retry.js';
import {
  generateKeyPair,
  startSnowflakeStandin,
  type FaultKind,
} from '../test/support/snowflake-standin/index.js';
import type { LandedRow } from './checker.js';
import { committedOffsets } from './cluster.js';
import { drive } from './driver.js';
import { FAULTY_PROCESSOR } from './faulty-warehouse.js';
import { seededRandom } from './fuzz.js';
import { AckLedger } from './ledger.js';
import { PROCESSOR_ENV } from './processor-crashes.js';
import { heapCapEnv, memoryCheck, peakOf, probe } from './probe.js';
import { check, mib, seconds, type Check, type Scenario, type SuiteContext } from './scenario.js';
import { Stage } from './stage.js';
import { recordBytes, workloadPlan } from './workload.js';

/** Small limits, so an outage's worth of positions is many times what may wait in memory. */
const BATCH_MAX_BYTES = 1024 * 1024;
const MAX_UNFLUSHED_BYTES = 4 * 1024 * 1024;

/** A warehouse the scenario can take down and read back. */
interface OutageTarget {
  /** Environment of the processor child. */
  env: Record<string, string>;
  /** Node entry of the child instead of `fleet process`. */
  script?: string;
  /** What the outage looks like, for the report. */
  describe: string;
  down(ms: number): void;
  up(): void;
  rows(stage: Stage): Promise<LandedRow[]>;
  close(): Promise<void>;
}

/** DuckDB behind {@link FaultyWarehouse} (faults/processor-child.ts), switched by a flag file. */
function duckdbTarget(ctx: SuiteContext): OutageTarget {
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

/** Wire-level faults of the Snowflake stand-in; the processor is the plain `fleet process`. */
const SNOWFLAKE_OUTAGES: readonly FaultKind[] = ['http-503', 'drop', 'warehouse-suspended', 'internal-error'];

async function snowflakeTarget(ctx: SuiteContext): Promise<OutageTarget> {
  const keys = generateKeyPair();
  const keyFile = path.join(ctx.runDir, 'snowflake-key.p8');
  writeFileSync(keyFile, keys.privateKeyPem, { mode: 0o600 });
  const standin = await startSnowflakeStandin({
    users: [{ name: 'FAULTS', publicKeyPem: keys.publicKeyPem }],
  });
  const kind = SNOWFLAKE_OUTAGES[Math.floor(seededRandom(ctx.seed ^ 0x4b)() * SNOWFLAKE_OUTAGES.length)]!;
  return {
    env: {
      WAREHOUSE: 'snowflake',
      SNOWFLAKE_ACCOUNT: standin.accountName.toLowerCase(),
      SNOWFLAKE_USER: 'faults',
      SNOWFLAKE_PRIVATE_KEY_PATH: keyFile,
      SNOWFLAKE_DATABASE: 'fleet',
      SNOWFLAKE_SCHEMA: 'PUBLIC',
      SNOWFLAKE_WAREHOUSE: 'fleet_wh',
      SNOWFLAKE_ROLE: 'FLEET_LOADER',
      SNOWFLAKE_HOST: standin.url,
      SNOWFLAKE_DISABLE_PLATFORM_DETECTION: 'true',
    },
    describe: `every Snowflake statement fails with '${kind}' (stand-in fault injection)`,
    down: (ms) => standin.faults.failFor(ms, kind),
    up: () => standin.faults.clear(),
    rows: async (stage) =>
      (
        await standin.engine.query(
          `SELECT vehicle_id, epoch_ms(ts), kafka_partition, CAST(kafka_offset AS VARCHAR) FROM ${stage.config.warehouse.table}
           WHERE kafka_topic = '${stage.config.topic.name}'`,
        )
      ).map((r) => ({
        vehicleId: String(r[0]),
        ts: Number(r[1]),
        partition: Number(r[2]),
        offset: String(r[3]),
      })),
    close: () => standin.close(),
  };
}

/**
 * 4. Warehouse outage: every warehouse write fails (retriably) for 60 s (15 s in the quick run)
 * while positions keep coming. No offset may be committed during the outage, backpressure must
 * pause fetching so memory stays bounded, and after recovery every record must land exactly once.
 */
function warehouseOutageScenario(options: {
  id: string;
  variant?: string;
  title: string;
  target: (ctx: SuiteContext) => OutageTarget | Promise<OutageTarget>;
}): Scenario {
  return {
    id: options.id,
    number: 4,
    ...(options.variant ? { variant: options.variant } : {}),
    title: options.title,
    async run(ctx) {
      const services = await ctx.services(1);
      const metricsPort = await freePort();
      const target = await options.target(ctx);
      const stage = new Stage(ctx, services, options.id.replace(/-/g, '_'), {
        ...PROCESSOR_ENV,
        BATCH_MAX_BYTES: String(BATCH_MAX_BYTES),
        MAX_UNFLUSHED_BYTES: String(MAX_UNFLUSHED_BYTES),
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
        await stage.drained(60_000, processor);
        const probed = probe(processor, { metricsPort });
        const production = drive({ plan, publisher, ledger, rate: () => rate });
        await sleep(5000);

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
        target.up();
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
          MAX_UNFLUSHED_BYTES +
          stage.config.topic.partitions * stage.config.consumer.fetchMaxBytesPerPartition;
        checks.push(
          check(
            'backpressure paused fetching during the outage',
            during.at(-1)?.paused === true && unflushedPeak <= unflushedBound,
            `paused in ${during.filter((s) => s.paused).length}/${during.length} samples (and at the end); ${readDuring} records read while ~${arrived} arrived; unflushed peak ${mib(unflushedPeak)} (bound ${mib(unflushedBound)})`,
          ),
          memoryCheck({
            samples: during,
            survived: processor.alive,
            maxUnflushedBytes: MAX_UNFLUSHED_BYTES,
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
          checks: [...checks, ...verdict.checks],
          notes: [
            `outage: ${target.describe}`,
            `lag ${lagBefore} → ${lagAfter} during the outage; ${produced.published} published at ${rate}/s`,
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

export const warehouseOutageSnowflake = warehouseOutageScenario({
  id: 'warehouse-outage-sf',
  variant: 'b',
  title: 'Warehouse outage: the Snowflake stand-in fails for 60 s while positions flow',
  target: snowflakeTarget,
});
