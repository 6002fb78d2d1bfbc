import { freePort } from '../src/local/processes.js';
import { sleep } from '../src/retry.js';
import { checkLatestState, newestLanded } from './checker.js';
import { committedOffsets, killRedis, redisCommand, restartRedis } from './cluster.js';
import { drive } from './driver.js';
import { readLatestState } from './landed.js';
import { AckLedger } from './ledger.js';
import { PROCESSOR_ENV } from './processor-crashes.js';
import { scrapeMetrics } from './probe.js';
import { check, seconds, type Check, type Scenario } from './scenario.js';
import { Stage } from './stage.js';
import { workloadPlan } from './workload.js';

/**
 * 3. Redis loses everything twice while positions flow (FLUSHALL, then kill -9 and an empty
 * restart): the processor must back off, commit nothing while Redis is gone and carry on by itself.
 * After the flow, Redis is emptied once more and `fleet replay --from earliest` must rebuild the
 * table with no vehicle behind its newest position.
 */
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
      const production = drive({ plan, publisher, ledger, rate: () => total / durationS });

      await sleep(durationS * 300);
      await redisCommand(services.redisUrl, 'FLUSHALL');
      ctx.say('FLUSHALL done');
      await sleep(durationS * 250);

      await killRedis(services.home);
      const killedAt = Date.now();
      ctx.say(`redis killed; down for ${seconds(outageMs)}`);
      // What was in flight when Redis died may still commit; after that, nothing may.
      await sleep(Math.min(4000, outageMs / 2));
      const before = await committedOffsets(
        stage.admin,
        stage.config.consumer.groupId,
        stage.config.topic.name,
      );
      await sleep(outageMs - (Date.now() - killedAt));
      const after = await committedOffsets(
        stage.admin,
        stage.config.consumer.groupId,
        stage.config.topic.name,
      );
      await restartRedis(services.home);
      const restartedAt = Date.now();
      checks.push(
        check('no offset committed while Redis was down', before === after, `${before} → ${after}`),
      );
      const metrics = await scrapeMetrics(metricsPort).catch(() => undefined);
      notes.push(
        `sink write retries (backoff) by the end of the outage: ${metrics?.get('fleet_processor_sink_retries_total') ?? 'unknown'}`,
      );

      const produced = await production;
      const drainMs = await stage.drained(ctx.quick ? 120_000 : 300_000, processor);
      notes.push(
        `caught up ${seconds(Date.now() - restartedAt)} after the restart (final drain ${seconds(drainMs)})`,
      );
      checks.push(check('processor survived without a restart', processor.alive, `pid ${processor.pid}`));
      const stopped = await processor.stop();
      checks.push(
        check('processor stopped cleanly on SIGTERM', stopped.graceful, JSON.stringify(stopped.exit)),
      );

      const rows = await stage.rows();
      const verdict = await stage.verify(plan, ledger, rows);
      notes.push(`before replay: ${verdict.checks[1]!.detail}`);

      // Redis lost again after the traffic stopped: only a replay can bring the table back.
      await redisCommand(services.redisUrl, 'FLUSHALL');
      const replay = stage.start(['replay', '--from', 'earliest']);
      const replayStarted = Date.now();
      const timeout = setTimeout(() => void replay.kill(), 300_000);
      const exit = await replay.exited.finally(() => clearTimeout(timeout));
      checks.push(
        check(
          '`fleet replay --from earliest` finished',
          exit.code === 0,
          `${JSON.stringify(exit)} in ${seconds(Date.now() - replayStarted)}`,
        ),
      );
      const expected = newestLanded(rows);
      const state = checkLatestState(
        expected,
        await readLatestState(services.redisUrl, stage.config.redis.prefix, expected.keys()),
      );
      checks.push(
        check(
          'after replay no vehicle is behind its newest position',
          state.behind === 0 && state.ahead === 0,
          `${state.vehicles} vehicles, behind ${state.behind}, ahead ${state.ahead}${state.sample.length ? `; ${state.sample.join('; ')}` : ''}`,
        ),
      );
      return {
        figures: verdict.figures,
        checks: [verdict.checks[0]!, ...checks],
        notes: [`production ${seconds(produced.durationMs)}`, ...notes, ...verdict.notes],
      };
    } finally {
      await restartRedis(services.home).catch(() => undefined);
      await publisher.close().catch(() => undefined);
      await stage.tearDown();
    }
  },
};
