import { createKafka } from '../src/kafka/client.js';
import { silentLogger } from '../src/logger.js';
import { sleep } from '../src/retry.js';
import { busiestLeader } from './broker-loss.js';
import { killBroker, partitionLeaders, restartBroker } from './cluster.js';
import {
  alterTopicConfig,
  describePartitions,
  describeTopic,
  uncleanElection,
  type PartitionState,
} from './kafka-tools.js';
import { drive } from './driver.js';
import { AckLedger } from './ledger.js';
import { check, seconds, type Check, type Scenario } from './scenario.js';
import { Stage } from './stage.js';
import { positionsInTopic } from './topic-reader.js';
import { workloadPlan } from './workload.js';

const leaderless = (ps: readonly PartitionState[]) => ps.filter((p) => p.leader < 0).length;

/**
 * 2c/2d. A second broker failure before the first broker is back (the case docs/faults.md used to
 * argue on paper): kill -9 the busiest leader A, keep producing, kill -9 the busiest of the rest B,
 * keep producing, then treat B as lost for good (its disk gone) and bring A back. Partitions whose
 * only in-sync replica was B have no eligible leader; the operator's way out is an unclean leader
 * election to A. Then the topic itself is read back: an acknowledged position that is not in it is
 * lost by Kafka (nothing downstream can bring it back). No processor runs: the loss is measured at
 * the source.
 */
function secondFailureScenario(options: { rf: 2 | 3; id: string; variant: string }): Scenario {
  const minIsr = options.rf - 1;
  return {
    id: options.id,
    number: 2,
    variant: options.variant,
    ...(options.rf === 2 ? { optIn: true } : {}),
    title: `Second broker failure: kill -9 two of 3 brokers in turn, the second one lost for good (RF=${options.rf}, min.insync.replicas=${minIsr})`,
    // With two of three brokers down, min.insync.replicas cannot be met: every publish of that
    // phase may fail (rate × phase, full run), and must be inside a window.
    publishFailureBound: 60_000,
    // About 6 minutes with its own 3-broker restarts: full runs only.
    fullOnly: true,
    async run(ctx) {
      const services = await ctx.services(3);
      const stage = new Stage(ctx, services, `second_rf${options.rf}`, {
        TOPIC_REPLICATION_FACTOR: String(options.rf),
        TOPIC_PARTITIONS: '6',
      });
      await stage.setUp();
      const phaseMs = ctx.quick ? 12_000 : 30_000;
      const rate = ctx.quick ? 1000 : 2000;
      const plan = workloadPlan({ total: rate * 600, vehicles: 300 });
      const ledger = new AckLedger(plan.total);
      const publisher = stage.publisher(ctx.logger);
      const stopFlow = new AbortController();
      const killed: number[] = [];
      const checks: Check[] = [];
      const topic = stage.config.topic.name;
      try {
        await publisher.connect();
        const production = drive({ plan, publisher, ledger, rate: () => rate, signal: stopFlow.signal });
        await sleep(5000);
        const a = await busiestLeader(stage);
        const closeFirst = ctx.faults.open(`broker ${a} killed`);
        await killBroker(services.home, a);
        killed.push(a);
        const ackedAtFirst = ledger.counts().acknowledged;
        ctx.say(`broker ${a} killed`);
        await sleep(phaseMs);
        const afterFirst = await partitionStates(stage, topic);
        // Never A again: a slow controller may still list the killed broker as leader.
        const b = busiest(afterFirst, services.brokers.length, a);
        const soleCopy = afterFirst.filter((p) => p.isr.length === 1 && p.isr[0] === b).length;
        const ackedAtSecond = ledger.counts().acknowledged;
        ctx.faults.open(`broker ${b} lost for good`);
        await killBroker(services.home, b);
        killed.push(b);
        ctx.say(`broker ${b} killed (sole in-sync replica of ${soleCopy} partitions); it stays lost`);
        await sleep(phaseMs);
        const ackedWhileTwoDown = ledger.counts().acknowledged - ackedAtSecond;
        await restartBroker(services, a);
        closeFirst();
        killed.shift();
        await sleep(10_000);
        // Read with Kafka's tool: kafkajs cannot describe a topic while a partition has no leader.
        const backAgain = await partitionStates(stage, topic);
        const offline = leaderless(backAgain);
        let election =
          offline > 0
            ? await uncleanElection(
                services,
                topic,
                backAgain.filter((p) => p.leader < 0).map((p) => p.partition),
              )
            : 'not needed';
        if (offline > 0 && leaderless(await partitionStates(stage, topic)) > 0) {
          // The command refused (see its answer): let the controller elect out-of-sync replicas itself.
          const set = await alterTopicConfig(services, topic, 'unclean.leader.election.enable=true');
          await sleep(10_000);
          election += `; then unclean.leader.election.enable=true (${set}): ${leaderless(await partitionStates(stage, topic))} partitions still without a leader`;
        }
        ctx.say(`broker ${a} back; ${offline} partitions without a leader; unclean election: ${election}`);
        await sleep(phaseMs);
        stopFlow.abort();
        const stillOffline = leaderless(await partitionStates(stage, topic));
        if (stillOffline > 0)
          throw new Error(
            `${stillOffline} partitions still without a leader, the topic cannot be read back; election: ${election}`,
          );
        const produced = await production;
        const after = await partitionStates(stage, topic);
        const kafka = createKafka(stage.config.kafka, { logger: silentLogger, role: 'faults-reader' });
        const inTopic = await positionsInTopic(kafka, stage.admin, topic, plan);
        let lost = 0;
        let lostDuringFirst = 0;
        let duplicated = 0;
        let unackedLanded = 0;
        const counts = ledger.counts();
        for (let seq = 0; seq < plan.total; seq++) {
          const n = inTopic.copies[seq]!;
          if (n > 1) duplicated += n - 1;
          if (ledger.isAcknowledged(seq) && n === 0) lost++;
          if (!ledger.isAcknowledged(seq) && n > 0) unackedLanded++;
        }
        // Which outage the lost ones were acknowledged in cannot be told per position from the
        // ledger (it has no times); the acknowledgements counted per phase bound them.
        lostDuringFirst = Math.min(lost, ackedAtSecond - ackedAtFirst);
        checks.push(
          check('every partition has a leader again', leaderless(after) === 0, describePartitions(after)),
        );
        return {
          figures: {
            produced: counts.produced,
            acknowledged: counts.acknowledged,
            landed: counts.acknowledged - lost,
            lost,
            duplicated,
          },
          checks,
          notes: [
            `broker ${a} killed, ${seconds(phaseMs)} later broker ${b} (then the sole in-sync replica of ${soleCopy} of 6 partitions) killed and kept down; ${seconds(phaseMs)} later ${a} restarted`,
            `${ackedAtSecond - ackedAtFirst} positions acknowledged with one broker down, ${ackedWhileTwoDown} with two down`,
            `${offline} partitions had no leader after ${a} came back (${describePartitions(backAgain)}); unclean leader election: ${election}`,
            `topic read back: ${inTopic.records} records; acknowledged but not in the topic: ${lost} (at most ${lostDuringFirst} of them from the first outage's window); copies beyond the first: ${duplicated}; failed publishes that landed anyway: ${unackedLanded}`,
            `publish: ${counts.acknowledged} acknowledged, ${counts.failed} failed (indeterminate), ${produced.failedCalls} failed calls${produced.lastError ? ` (last: ${produced.lastError})` : ''}`,
          ],
        };
      } finally {
        stopFlow.abort();
        for (const node of killed) await restartBroker(services, node).catch(() => undefined);
        await publisher.close().catch(() => undefined);
        await stage.tearDown();
      }
    },
  };
}

/**
 * Leaders and ISRs of a topic: by kafkajs (fast), or, when kafkajs cannot describe the topic (a
 * partition without a leader fails its whole Metadata answer), by Kafka's own tool.
 */
async function partitionStates(stage: Stage, topic: string): Promise<PartitionState[]> {
  try {
    const ps = await partitionLeaders(stage.admin, topic);
    return ps.map((p) => ({ ...p, replicas: [], elr: [] })).sort((a, b) => a.partition - b.partition);
  } catch {
    return describeTopic(stage.services, topic);
  }
}

/** The live broker (not `dead`) leading the most partitions (lowest id on a tie). */
function busiest(partitions: readonly PartitionState[], brokers: number, dead: number): number {
  const counts = new Map<number, number>();
  for (let id = 1; id <= brokers; id++) if (id !== dead) counts.set(id, 0);
  for (const p of partitions) if (counts.has(p.leader)) counts.set(p.leader, counts.get(p.leader)! + 1);
  return [...counts.entries()].sort((x, y) => y[1] - x[1] || x[0] - y[0])[0]![0];
}

export const secondFailureRf3 = secondFailureScenario({ rf: 3, id: 'second-failure', variant: 'c' });
export const secondFailureRf2 = secondFailureScenario({ rf: 2, id: 'second-failure-rf2', variant: 'd' });
