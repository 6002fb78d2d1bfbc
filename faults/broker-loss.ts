import { sleep } from '../src/retry.js';
import { describeIsr, killBroker, partitionFor, partitionLeaders, restartBroker } from './cluster.js';
import { drive } from './driver.js';
import { AckLedger } from './ledger.js';
import { PROCESSOR_ENV } from './processor-crashes.js';
import { check, seconds, type Check, type Scenario } from './scenario.js';
import { Stage } from './stage.js';
import { vehicleId, workloadPlan, type WorkloadPlan } from './workload.js';

interface OutageFigures {
  downMs: number;
  acked: number;
  longestGapMs: number;
  failoverMs?: number;
  /** Positions acknowledged while their partition's ISR had one replica. */
  exposed: number;
  minIsr: number;
}

/**
 * Watches the cluster once a second while a broker is down: when leadership left it, the longest
 * pause in acknowledgements, and how many acknowledged positions rested on one replica only.
 */
async function watchOutage(
  stage: Stage,
  plan: WorkloadPlan,
  ledger: AckLedger,
  victim: number,
  forMs: number,
): Promise<OutageFigures> {
  const started = Date.now();
  const partitionOf = partitionFor(stage.config.topic.name, stage.config.topic.partitions);
  const vehiclePartition = Array.from({ length: plan.vehicles }, (_, i) => partitionOf(vehicleId(plan, i)));
  const counted = new Uint8Array(plan.total);
  for (let seq = 0; seq < plan.total; seq++) if (ledger.isAcknowledged(seq)) counted[seq] = 1;
  const ackedBefore = ledger.counts().acknowledged;
  let lastAcked = ackedBefore;
  let lastAckAt = started;
  const figures: OutageFigures = { downMs: 0, acked: 0, longestGapMs: 0, exposed: 0, minIsr: Infinity };
  while (Date.now() - started < forMs) {
    await sleep(1000);
    const now = Date.now();
    const leaders = await partitionLeaders(stage.admin, stage.config.topic.name).catch(() => []);
    const isr = new Map(leaders.map((p) => [p.partition, p.isr.length]));
    for (const size of isr.values()) figures.minIsr = Math.min(figures.minIsr, size);
    if (figures.failoverMs === undefined && leaders.length > 0 && leaders.every((p) => p.leader !== victim)) {
      figures.failoverMs = now - started;
    }
    for (let seq = 0; seq < plan.total; seq++) {
      if (counted[seq] || !ledger.isAcknowledged(seq)) continue;
      counted[seq] = 1;
      if ((isr.get(vehiclePartition[seq % plan.vehicles]!) ?? 2) <= 1) figures.exposed++;
    }
    const acked = ledger.counts().acknowledged;
    if (acked > lastAcked) {
      lastAcked = acked;
      lastAckAt = now;
    }
    figures.longestGapMs = Math.max(figures.longestGapMs, now - lastAckAt);
  }
  figures.acked = lastAcked - ackedBefore;
  figures.downMs = Date.now() - started;
  return figures;
}

/** The node leading most partitions of the topic: killing it forces the most leader elections. */
export async function busiestLeader(stage: Stage): Promise<number> {
  const leaders = await partitionLeaders(stage.admin, stage.config.topic.name);
  const counts = new Map<number, number>();
  for (const p of leaders) counts.set(p.leader, (counts.get(p.leader) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]![0];
}

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
    // A failover may time out the publish calls in flight at that moment: at most one full
    // window of the driver (8 calls × 500 positions).
    publishFailureBound: 4000,
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

        await stage.committedOnce(120_000, processor);
        await sleep(durationS * 300);
        victim = await busiestLeader(stage);
        const killedAt = Date.now();
        const brokerDown = ctx.faults.open(`broker ${victim} SIGKILLed until it rejoined`);
        await killBroker(services.home, victim);
        ctx.say(`broker ${victim} killed`);
        const outage = await watchOutage(stage, plan, ledger, victim, durationS * 350);
        await restartBroker(services, victim);
        brokerDown();
        ctx.say(`broker ${victim} back after ${seconds(Date.now() - killedAt)}`);
        checks.push(
          check(
            'producer kept getting acknowledgements with the broker down',
            outage.acked > 0,
            `${outage.acked} acknowledged in the first ${seconds(outage.downMs)} down; longest pause between acknowledgements ${seconds(outage.longestGapMs)}`,
          ),
        );
        notes.push(
          outage.failoverMs === undefined
            ? `broker ${victim} still led partitions when it came back`
            : `leadership moved off broker ${victim} ${seconds(outage.failoverMs)} after the kill`,
          `${outage.exposed} positions were acknowledged while their partition had a single in-sync replica (one more failure from loss); smallest ISR seen: ${outage.minIsr}`,
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
