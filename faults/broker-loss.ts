import { sleep } from '../src/retry.js';
import { killBroker, partitionLeaders, restartBroker } from './cluster.js';
import { drive } from './driver.js';
import { AckLedger } from './ledger.js';
import { PROCESSOR_ENV } from './processor-crashes.js';
import { check, seconds, type Check, type Scenario } from './scenario.js';
import { Stage } from './stage.js';
import { workloadPlan } from './workload.js';

/** The node leading most partitions of the topic: killing it forces the most leader elections. */
async function busiestLeader(stage: Stage): Promise<number> {
  const leaders = await partitionLeaders(stage.admin, stage.config.topic.name);
  const counts = new Map<number, number>();
  for (const p of leaders) counts.set(p.leader, (counts.get(p.leader) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]![0];
}

const describeIsr = (isr: { partition: number; leader: number; isr: number[] }[]) =>
  isr.map((p) => `p${p.partition}: leader ${p.leader} isr [${p.isr.join(',')}]`).join('; ');

/**
 * 2. Broker loss on a 3-node KRaft cluster: kill -9 the busiest partition leader mid-stream, restart
 * it later. Producer and processor must carry on without a restart and no acknowledged position
 * may be lost. Run with RF=3 / min.insync.replicas=2 (recommended) and with the seed's RF=2
 * (min.insync.replicas=1) to show the difference.
 */
function brokerLossScenario(options: { rf: 2 | 3; id: string; variant?: string }): Scenario {
  const minIsr = options.rf - 1;
  return {
    id: options.id,
    number: 2,
    ...(options.variant ? { variant: options.variant } : {}),
    title: `Broker loss: kill -9 one of 3 brokers mid-stream, restart it later (RF=${options.rf}, min.insync.replicas=${minIsr})`,
    async run(ctx) {
      const services = await ctx.services(3);
      const stage = new Stage(ctx, services, `brokers_rf${options.rf}`, {
        ...PROCESSOR_ENV,
        TOPIC_REPLICATION_FACTOR: String(options.rf),
        TOPIC_PARTITIONS: '6',
      });
      await stage.setUp();
      const total = ctx.quick ? 60_000 : 300_000;
      const durationS = ctx.quick ? 40 : 120;
      const plan = workloadPlan({ total, vehicles: ctx.quick ? 300 : 1000 });
      const ledger = new AckLedger(total);
      const publisher = stage.publisher(ctx.logger);
      const checks: Check[] = [];
      const notes: string[] = [];
      let victim: number | undefined;
      try {
        await publisher.connect();
        const processor = stage.start(['process']);
        const production = drive({ plan, publisher, ledger, rate: () => total / durationS });

        await sleep(durationS * 300);
        victim = await busiestLeader(stage);
        const ackedBefore = ledger.counts().acknowledged;
        await killBroker(services.home, victim);
        const killedAt = Date.now();
        ctx.say(`broker ${victim} killed`);
        await sleep(Math.min(10_000, durationS * 150));
        notes.push(
          `broker ${victim} killed; 10 s later: ${describeIsr(await partitionLeaders(stage.admin, stage.config.topic.name))}`,
        );
        await sleep(durationS * 350 - (Date.now() - killedAt));
        const ackedDuring = ledger.counts().acknowledged - ackedBefore;
        await restartBroker(services, victim);
        const downMs = Date.now() - killedAt;
        ctx.say(`broker ${victim} back after ${seconds(downMs)}`);
        checks.push(
          check(
            'producer kept getting acknowledgements with the broker down',
            ackedDuring > 0,
            `${ackedDuring} acknowledged in ${seconds(downMs)}`,
          ),
        );

        const produced = await production;
        const drainMs = await stage.drained(ctx.quick ? 180_000 : 300_000, processor);
        checks.push(
          check(
            'processor survived without a restart',
            processor.alive,
            `drained ${seconds(drainMs)} after the flow`,
          ),
        );
        // Re-replication: the restarted broker catches up and rejoins every ISR.
        const start = Date.now();
        let isr = await partitionLeaders(stage.admin, stage.config.topic.name);
        while (isr.some((p) => p.isr.length < options.rf) && Date.now() - start < 60_000) {
          await sleep(1000);
          isr = await partitionLeaders(stage.admin, stage.config.topic.name);
        }
        checks.push(
          check(
            `every partition back to ${options.rf} in-sync replicas`,
            isr.every((p) => p.isr.length === options.rf),
            describeIsr(isr),
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
            `production ${seconds(produced.durationMs)}, ${produced.failedCalls} failed publish calls${produced.lastError ? ` (last: ${produced.lastError})` : ''}`,
            ...notes,
            ...verdict.notes,
          ],
        };
      } finally {
        if (victim !== undefined) await restartBroker(services, victim).catch(() => undefined);
        await publisher.close().catch(() => undefined);
        await stage.tearDown();
      }
    },
  };
}

export const brokerLoss = brokerLossScenario({ rf: 3, id: 'broker-loss' });
export const brokerLossRf2 = brokerLossScenario({ rf: 2, id: 'broker-loss-rf2', variant: 'b' });
