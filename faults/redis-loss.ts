import { freePort, waitFor } from '../src/local/processes.js';
import type { FleetChild } from './children.js';
import { sleep } from '../src/retry.js';
import { tableCheck } from './audit.js';
import { lateWrittenLast } from './redis-table.js';
import { committedOffsets, killRedis, redisCommand, restartRedis, suiteKafka } from './cluster.js';
import { drive } from './driver.js';
import { AckLedger } from './ledger.js';
import { PROCESSOR_ENV } from './processor-crashes.js';
import { scrapeMetrics } from './probe.js';
import { check, seconds, type Check, type Scenario } from './scenario.js';
import { Stage } from './stage.js';
import { workloadPlan } from './workload.js';
import { commitsWithinBounds, outageBounds } from './outage-bound.js';
import { newestPerVehicle, readRawTable, type RawShard } from './redis-table.js';
import { changelogTopicPlan, positionTopicPlan } from '../src/kafka/topic-admin.js';
import { forceCompaction } from '../test/support/compaction.js';

/**
 * 3. Redis loses everything twice while positions flow (FLUSHALL, then kill -9 and an empty
 * restart): the processor must back off, commit nothing while Redis is gone and carry on by itself.
 * After the flow, Redis is emptied once more and `fleet replay --from earliest` must rebuild the
 * table with no vehicle behind its newest position. Then the log cleaner is made to compact the
 * topic and the table's changelog (so a late report written last is all the topic keeps of some
 * vehicles), Redis is emptied again and `fleet replay --from changelog --rebuild` must restore the
 * newest position of every vehicle.
 */
/** Waits until the driver has handed `n` positions to the publisher; throws if the processor dies or after 5 min. */
async function produced(ledger: AckLedger, n: number, processor: FleetChild): Promise<void> {
  const deadline = Date.now() + 300_000;
  while (ledger.counts().produced < n) {
    if (!processor.alive) throw new Error(`${processor.name} exited:\n${processor.tail()}`);
    if (Date.now() > deadline) throw new Error(`${n} positions not produced within 5 min`);
    await sleep(200);
  }
}

const sinkRetries = async (port: number) =>
  (await scrapeMetrics(port).catch(() => undefined))?.get('fleet_processor_sink_retries_total') ?? 0;

export const redisLoss: Scenario = {
  id: 'redis-loss',
  number: 3,
  title: 'Redis loss: FLUSHALL and kill -9 + empty restart mid-stream, then `fleet replay` rebuilds',
  async run(ctx) {
    const services = await ctx.services(1);
    const metricsPort = await freePort();
    const stage = new Stage(ctx, services, 'redis', { ...PROCESSOR_ENV, METRICS_PORT: String(metricsPort) });
    await stage.setUp();
    const total = ctx.quick ? 60_000 : 300_000;
    const durationS = ctx.quick ? 30 : 90;
    const outageMs = ctx.quick ? 8000 : 20_000;
    const plan = workloadPlan({ total, vehicles: ctx.quick ? 300 : 1000 });
    const ledger = new AckLedger(total);
    const publisher = stage.publisher(ctx.logger);
    const checks: Check[] = [];
    const notes: string[] = [];
    try {
      await publisher.connect();
      const processor = stage.start(['process']);
      // The last fifth waits for Redis to be back, so every vehicle moves after the restart and the
      // live-table check below has something to check (on a slow machine the outage could
      // otherwise outlast the flow).
      const rate = () => total / durationS;
      const lastFifth = Math.floor(total * 0.8);
      const firstPart = drive({ plan, publisher, ledger, rate, to: lastFifth });

      await stage.committedOnce(120_000, processor);
      // Faults follow production, not the clock, so a slow start cannot push them past its end:
      // FLUSHALL at 20 %, kill at 50 %.
      await produced(ledger, total * 0.2, processor);
      await ctx.faults.during('FLUSHALL', () => redisCommand(services.redisUrl, 'FLUSHALL'));
      ctx.say('FLUSHALL done');
      await produced(ledger, total * 0.5, processor);

      const retriesBefore = await sinkRetries(metricsPort);
      const offsets = () =>
        committedOffsets(stage.admin, stage.config.consumer.groupId, stage.config.topic.name);
      // What Redis holds when it dies decides what may still commit while it is down (see
      // faults/outage-bound.ts): pause the processor, let its last script finish, read the table
      // raw, kill Redis, resume the processor.
      const redisDown = ctx.faults.open('redis-server SIGKILLed, restarted empty');
      // Every shard must hold a write made after the FLUSHALL (a partition's chunks are written in
      // offset order, so that write is past everything the FLUSHALL erased), or the snapshot
      // could not tell erased-but-written records from never-written ones.
      let snapshot: RawShard[] | undefined;
      const snapshotDeadline = Date.now() + 60_000;
      while (!snapshot) {
        process.kill(processor.pid, 'SIGSTOP');
        try {
          await sleep(300);
          const shards = await readRawTable(
            services.redisUrl,
            stage.config.redis.prefix,
            stage.config.topic.partitions,
          );
          if (shards.every((shard) => Object.keys(shard.versions).length > 0)) {
            snapshot = shards;
            await killRedis(services.home);
          } else if (Date.now() > snapshotDeadline) {
            throw new Error('a shard of the table was still empty 60 s after the FLUSHALL');
          }
        } finally {
          process.kill(processor.pid, 'SIGCONT');
        }
        if (!snapshot) await sleep(500);
      }
      const killedAt = Date.now();
      const atKill = await offsets();
      ctx.say(`redis killed; down for ${seconds(outageMs)}`);
      // Not vacuous: the processor must have run into the dead Redis (a retried write); on a
      // loaded machine (a rebalance, a slow batch) that can take longer than the planned outage,
      // which then lasts until it happened.
      await waitFor(
        async () => (await sinkRetries(metricsPort)) > retriesBefore,
        'the processor to retry a state write against the dead Redis',
        60_000,
        200,
      );
      const hitAfterMs = Date.now() - killedAt;
      await sleep(Math.max(4000, outageMs - (Date.now() - killedAt)));
      const after = await offsets();
      await restartRedis(services.home);
      redisDown();
      const restartedAt = Date.now();
      const producedAtRestart = ledger.counts().produced;
      const first = await firstPart;
      const rest = await drive({ plan, publisher, ledger, rate, from: lastFifth });
      const driven = { durationMs: first.durationMs + rest.durationMs };
      notes.push(
        `first failed state write ${seconds(hitAfterMs)} after the kill; Redis down ${seconds(restartedAt - killedAt)}`,
      );

      const drainMs = await stage.drained(ctx.quick ? 120_000 : 300_000, processor);
      notes.push(
        `caught up ${seconds(Date.now() - restartedAt)} after the restart (final drain ${seconds(drainMs)})`,
      );
      checks.push(check('processor survived without a restart', processor.alive, `pid ${processor.pid}`));
      const stopped = await processor.stop();
      checks.push(
        check('processor stopped cleanly on SIGTERM', stopped.graceful, JSON.stringify(stopped.exit)),
      );

      // The live table after Redis came back (before any replay) is part of the standard verdict.
      const verdict = await stage.verify(plan, ledger, await stage.rows());
      const bounds = outageBounds(snapshot, verdict.records);
      const within = commitsWithinBounds(after, bounds);
      // The live-table check means something only for vehicles whose newest position Redis did not
      // hold when it died (it must have been written again after the restart).
      const held = new Map(bounds.map((b) => [b.partition, b.held]));
      const newest = [...newestPerVehicle(verdict.records).values()];
      const behind = newest.filter((e) => BigInt(e.offset) <= (held.get(e.partition) ?? -1n));
      checks.push(
        check(
          "every vehicle's newest position came after what Redis held when it died (the live-table check is not vacuous)",
          newest.length === plan.vehicles && behind.length === 0,
          `${newest.length} vehicles, ${behind.length} of them with nothing to write after the restart; ${producedAtRestart} of ${total} positions produced at the restart`,
        ),
      );
      checks.push(
        check(
          'while Redis was down, nothing was committed past what Redis held when it died',
          within.ok && bounds.every((b) => b.bound !== undefined),
          `${atKill} at the kill → ${after} at the restart; ${within.detail}`,
        ),
      );

      // Redis lost again after the traffic stopped: only a replay can bring the table back.
      const lostAgain = ctx.faults.open('FLUSHALL after the flow, until the replay ends');
      await redisCommand(services.redisUrl, 'FLUSHALL');
      checks.push(
        ...(await replayChecks(
          stage,
          ['--from', 'earliest'],
          verdict.records,
          'after the replay the Redis table holds the newest position on the topic for every vehicle (raw read)',
        )),
      );
      lostAgain();
      const restoring = ctx.faults.open('compaction + FLUSHALL, until the changelog restore ends');
      checks.push(...(await changelogRestore(stage, verdict.records, notes)));
      restoring();
      return {
        figures: verdict.figures,
        checks: [...verdict.checks, ...checks],
        notes: [`production ${seconds(driven.durationMs)}`, ...notes, ...verdict.notes],
      };
    } finally {
      await restartRedis(services.home).catch(() => undefined);
      await publisher.close().catch(() => undefined);
      await stage.tearDown();
    }
  },
};

/** `fleet replay <args>` finishes, and then the table (read raw) holds the newest position on the topic. */
async function replayChecks(
  stage: Stage,
  args: string[],
  records: Parameters<typeof tableCheck>[1],
  label: string,
): Promise<Check[]> {
  const replay = stage.start(['replay', ...args]);
  const started = Date.now();
  const timeout = setTimeout(() => void replay.kill(), 300_000);
  const exit = await replay.exited.finally(() => clearTimeout(timeout));
  return [
    check(
      `\`fleet replay ${args.join(' ')}\` finished`,
      exit.code === 0,
      `${JSON.stringify(exit)} in ${seconds(Date.now() - started)}`,
    ),
    await tableCheck(stage.config, records, label),
  ];
}

/**
 * The changelog's promise: compaction of the topic keeps the last-written record per vehicle (a
 * late report, for some), the changelog's keeps the newest state; after a wipe the restore from the
 * changelog must hold the newest position of every vehicle (as the topic held it before compaction).
 */
async function changelogRestore(
  stage: Stage,
  records: Parameters<typeof tableCheck>[1],
  notes: string[],
): Promise<Check[]> {
  const { topic } = stage.config;
  const brokers = stage.services.brokers.length;
  // Not vacuous: some vehicle's last-written record must be a late report, else restoring from
  // the compacted topic would pass as well.
  const late = lateWrittenLast(records);
  const lateCheck = check(
    'some vehicles\u2019 last-written record is a late report (compaction of the topic keeps an older position for them)',
    late.length > 0,
    `${late.length} vehicle(s)${late.length ? `, e.g. ${late.slice(0, 3).join(', ')}` : ''}`,
  );
  const compacted = await forceCompaction(suiteKafka(stage.services), [
    positionTopicPlan(topic, brokers),
    changelogTopicPlan({ ...topic, changelog: topic.changelog! }, brokers),
  ]);
  notes.push(`compacted: ${[...compacted].map(([name, n]) => `${name} ${n} records`).join(', ')}`);
  await redisCommand(stage.services.redisUrl, 'FLUSHALL');
  return [
    lateCheck,
    ...(await replayChecks(
      stage,
      ['--from', 'changelog', '--rebuild'],
      records,
      'after compaction and a wipe, `replay --from changelog` restores the newest position of every vehicle (raw read)',
    )),
  ];
}
