import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { sleep } from '../src/retry.js';
import { describeIsr, partitionLeaders } from './cluster.js';
import { drive } from './driver.js';
import { AckLedger } from './ledger.js';
import {
  brokerHost,
  brokerHosts,
  quorumStatus,
  startNetCluster,
  stopNetCluster,
  type NetCluster,
} from './net/net-cluster.js';
import { caughtUp, committedEverywhere, endOffsetsByPartition } from './net/recovery.js';
import { buildDelay, degrade, heal, HOSTS, networkUnsupported, partition } from './net/topology.js';
import { PROCESSOR_ENV } from './processor-crashes.js';
import { check, seconds, type Check, type Scenario, type ScenarioContext } from './scenario.js';
import { Stage } from './stage.js';
import { workloadPlan } from './workload.js';

/** One network fault: what it cuts, and how it is undone. */
interface NetFault {
  name: string;
  inject(): Promise<void> | void;
  /** Watches the cluster while the fault lasts; returns what it saw. */
  during?(faultMs: number): Promise<string>;
  heal(): Promise<void> | void;
}

/** The largest consumer lag seen once a second for `forMs`. */
async function peakLag(stage: Stage, forMs: number): Promise<number> {
  let peak = 0;
  const started = Date.now();
  while (Date.now() - started < forMs - 1000) {
    await sleep(1000);
    peak = Math.max(peak, await stage.lag().catch(() => 0));
  }
  return peak;
}

/** Cuts one broker off from the other two: the active KRaft controller, so the quorum must elect another. */
function brokerIsolation(cluster: NetCluster): NetFault {
  let victim = 1;
  const before = quorumStatus(cluster, brokerHost(1)) ?? quorumStatus(cluster, brokerHost(2));
  if (before) victim = before.leaderId;
  const others = brokerHosts.filter((h) => h !== brokerHost(victim));
  return {
    name: `broker ${victim} (the active controller) ↔ the other two brokers`,
    inject: () => partition(brokerHost(victim), others),
    async during(faultMs) {
      const started = Date.now();
      while (Date.now() - started < faultMs) {
        const now = quorumStatus(cluster, others[0]!);
        if (now && now.leaderId !== victim) {
          return `quorum elected node ${now.leaderId} (epoch ${before?.epoch ?? '?'} → ${now.epoch}) ${seconds(Date.now() - started)} after the cut`;
        }
        await sleep(250);
      }
      return `the quorum still named node ${victim} leader after ${seconds(faultMs)}`;
    },
    heal: () => heal(brokerHost(victim)),
  };
}

function faults(cluster: NetCluster, delayBinary: string): (() => NetFault)[] {
  let helper: ChildProcess | undefined;
  return [
    () => ({
      name: 'processor ↔ all brokers',
      inject: () => partition(HOSTS.proc, brokerHosts),
      heal: () => heal(HOSTS.proc),
    }),
    () => ({
      name: 'processor ↔ Redis',
      inject: () => partition(HOSTS.proc, [HOSTS.redis]),
      heal: () => heal(HOSTS.proc),
    }),
    () => brokerIsolation(cluster),
    () => ({
      name: "processor's link: +200 ms on every packet it sends, 5 % loss each way",
      inject: () => {
        helper = degrade(HOSTS.proc, delayBinary, 200, 5);
      },
      heal: () => {
        heal(HOSTS.proc);
        helper?.kill('SIGTERM');
      },
    }),
  ];
}

/**
 * 7. Network faults between hosts: brokers, Redis and the processor each in their own network
 * namespace, joined by veth links to a bridge. In turn: the processor cut off from the brokers,
 * from Redis, one broker (the active controller) cut off from the other two, and a slow lossy
 * processor link. The one processor must recover from each without a restart; the time from the
 * heal until everything produced before it is committed is the recovery time.
 */
export const networkFaults: Scenario = {
  id: 'network-faults',
  number: 7,
  title:
    'Network faults: partitions (processor↔brokers, processor↔Redis, broker↔brokers) and a 200 ms / 5 % lossy link',
  // The active controller's cut moves the quorum's leader: publishes in flight then may time out.
  publishFailureBound: 4000,
  // Minutes of namespaces, a 3-node cluster of its own and four faults in turn: full runs only.
  fullOnly: true,
  async run(ctx: ScenarioContext) {
    const unsupported = networkUnsupported();
    if (unsupported && !ctx.quick)
      throw new Error(`network faults cannot run on this machine: ${unsupported}`);
    if (unsupported) {
      // The lead's rule: a quick run includes the network scenario whenever the machine allows it.
      ctx.say(`SKIPPED (quick run only; the full run fails here): ${unsupported}`);
      const none = { produced: 0, acknowledged: 0, landed: 0, lost: 0, duplicated: 0 };
      return {
        figures: none,
        checks: [check('network faults skipped in --quick', true, unsupported)],
        notes: [],
      };
    }
    const home = path.dirname(path.dirname(ctx.runDir));
    const delayBinary = buildDelay(path.join(home, 'bin'));
    ctx.say('starting 3 Kafka hosts + a Redis host in network namespaces');
    const cluster = await startNetCluster(home, ctx.logger);
    const faultMs = ctx.quick ? 12_000 : 45_000;
    const rate = ctx.quick ? 300 : 500;
    const plan = workloadPlan({ total: rate * 1800, vehicles: 300 });
    const ledger = new AckLedger(plan.total);
    const stage = new Stage(ctx, cluster, 'network', {
      ...PROCESSOR_ENV,
      TOPIC_REPLICATION_FACTOR: '3',
      TOPIC_PARTITIONS: '6',
    });
    const checks: Check[] = [];
    const notes: string[] = [];
    const stopFlow = new AbortController();
    const publisher = stage.publisher(ctx.logger);
    let active: NetFault | undefined;
    try {
      await stage.setUp();
      await publisher.connect();
      const processor = stage.start(['process'], {}, undefined, HOSTS.proc.ns);
      const pid = processor.pid;
      const production = drive({ plan, publisher, ledger, rate: () => rate, signal: stopFlow.signal });
      const { groupId: group } = stage.config.consumer;
      const topic = stage.config.topic.name;
      await sleep(3000);
      await committedEverywhere(stage.admin, group, topic, processor, 180_000);
      for (const make of faults(cluster, delayBinary)) {
        const fault = make();
        active = fault;
        const from = Date.now();
        const closeWindow = ctx.faults.open(fault.name);
        await fault.inject();
        ctx.say(`cut: ${fault.name}`);
        // The quorum gets up to 30 s to notice; the fault lasts at least faultMs.
        const [seen, lagPeak] = await Promise.all([
          fault.during?.(Math.max(faultMs, 30_000)) ?? '',
          peakLag(stage, faultMs),
        ]);
        await sleep(Math.max(0, faultMs - (Date.now() - from)));
        await fault.heal();
        closeWindow();
        active = undefined;
        const healedAt = Date.now();
        const targets = await endOffsetsByPartition(stage.admin, topic);
        const recoveryMs = await caughtUp(stage.admin, group, topic, targets, processor, 180_000).catch(
          (err: Error) => err,
        );
        const ok = typeof recoveryMs === 'number';
        ctx.say(`healed: ${fault.name}; ${ok ? `caught up in ${seconds(recoveryMs)}` : recoveryMs.message}`);
        checks.push(
          check(
            `recovered from ${fault.name} without a restart`,
            ok && processor.alive && processor.pid === pid,
            `${seconds(healedAt - from)} cut; lag peaked at ${lagPeak}; ${ok ? `everything produced before the heal committed ${seconds(recoveryMs)} after it` : recoveryMs.message}${seen ? `; ${seen}` : ''}`,
          ),
        );
        notes.push(
          `fault window ${fault.name}: ${new Date(from).toISOString()} → ${new Date(healedAt).toISOString()}`,
        );
      }
      stopFlow.abort();
      const produced = await production;
      const drainMs = await stage.drained(180_000, processor);
      const isr = await partitionLeaders(stage.admin, topic);
      checks.push(
        check(
          'every partition back to 3 in-sync replicas',
          isr.every((p) => p.isr.length === 3),
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
          `hosts: brokers ${cluster.brokers.join(', ')}, Redis ${cluster.redisUrl}, processor ${HOSTS.proc.ip}; faults of ${seconds(faultMs)}`,
          `production ${seconds(produced.durationMs)} at ${rate}/s, ${produced.failedCalls} failed publish calls${produced.lastError ? ` (last: ${produced.lastError})` : ''}; drained ${seconds(drainMs)} after it`,
          ...notes,
          ...verdict.notes,
        ],
      };
    } finally {
      stopFlow.abort();
      if (active) await Promise.resolve(active.heal()).catch(() => undefined);
      await publisher.close().catch(() => undefined);
      await stage.tearDown().catch(() => undefined);
      await stopNetCluster(home, cluster);
    }
  },
};
