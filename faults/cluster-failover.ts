import path from 'node:path';
import { freePort, waitFor } from '../src/local/processes.js';
import { sleep } from '../src/retry.js';
import type { FleetChild } from './children.js';
import { committedOffsets } from './cluster.js';
import { drive } from './driver.js';
import { seededRandom } from './fuzz.js';
import { readDuckDbRows, unionByRecord } from './landed.js';
import { AckLedger } from './ledger.js';
import { PROCESSOR_ENV, working } from './processor-crashes.js';
import {
  failedOver,
  killClusterNode,
  shardOwners,
  startSuiteRedisCluster,
  stopSuiteRedisCluster,
} from './redis-cluster-faults.js';
import { check, seconds, type Check, type Scenario } from './scenario.js';
import { Stage } from './stage.js';
import { workloadPlan } from './workload.js';

const PARTITIONS = 6;
const PROCESSORS = 3;

/** One `fleet process` and the DuckDB file it (and its replacement) writes. */
interface Slot {
  file: string;
  port: number;
  child: FleetChild;
}

const parseOffsets = (text: string) =>
  new Map(
    text
      .split(',')
      .filter(Boolean)
      .map((e) => e.split(':').map(Number) as [number, number]),
  );

/** Waits until the stage's group is Stable with `members` members. */
async function inGroup(stage: Stage, members: number, timeoutMs: number): Promise<void> {
  await waitFor(
    async () => {
      const { groups } = await stage.admin.describeGroups([stage.config.consumer.groupId]);
      return groups[0]?.state === 'Stable' && groups[0].members.length === members;
    },
    `${members} processors in the group`,
    timeoutMs,
    500,
  );
}

/**
 * 9. The scaled-out layout of issue 16 under faults: 3 brokers, a Redis Cluster of 3 primaries and
 * 3 replicas, 6 partitions, 3 `fleet process` in one group. Mid-stream one processor is SIGKILLed
 * (its partitions move to the two others; a replacement on its DuckDB file joins later) and the
 * Redis primary holding most shards is SIGKILLed (the cluster promotes its replica; the dead node
 * stays dead). DuckDB takes one writing process per file, so each processor has its own file and
 * the audit reads their union keyed by Kafka record, as a shared warehouse's key stores it.
 */
export const clusterFailover: Scenario = {
  id: 'cluster-failover',
  number: 9,
  // 3 brokers, 6 redis-servers and 3 Node processors (plus a replacement) on CI's 2 cores: its
  // start-up alone took minutes on the shared machine, so it stays out of the quick suite.
  fullOnly: true,
  title:
    'Scale-out failover: 3 brokers, Redis Cluster 3+3, 6 partitions, 3 processors; kill -9 a processor and a Redis primary mid-stream',
  async run(ctx) {
    const services = await ctx.services(3);
    ctx.say('starting a Redis Cluster: 3 primaries + 3 replicas');
    const redis = await startSuiteRedisCluster(services.home, 3, 1, ctx.logger);
    const stage = new Stage(ctx, services, 'cluster', {
      ...PROCESSOR_ENV,
      TOPIC_PARTITIONS: String(PARTITIONS),
      TOPIC_REPLICATION_FACTOR: '3',
      REDIS_CLUSTER_NODES: redis.nodes.join(','),
    });
    const total = ctx.quick ? 60_000 : 300_000;
    const durationS = ctx.quick ? 40 : 120;
    const plan = workloadPlan({ total, vehicles: ctx.quick ? 300 : 1000 });
    const ledger = new AckLedger(total);
    const random = seededRandom(ctx.seed ^ 0x16);
    const publisher = stage.publisher(ctx.logger);
    const checks: Check[] = [];
    const notes: string[] = [];
    const slots: Slot[] = [];
    const killed = new Set<FleetChild>();
    const start = async (i: number, file = path.join(ctx.runDir, `cluster-${i}.duckdb`)) => {
      const port = await freePort();
      const child = stage.start(['process'], { METRICS_PORT: String(port), DUCKDB_PATH: file });
      slots[i] = { file, port, child };
    };
    const produced = async (share: number) => {
      const deadline = Date.now() + 300_000;
      while (ledger.counts().produced < total * share) {
        const dead = slots.find((s) => !s.child.alive && !killed.has(s.child));
        if (dead) throw new Error(`${dead.child.name} exited:\n${dead.child.tail()}`);
        if (Date.now() > deadline) throw new Error(`${share * 100} % not produced within 5 min`);
        await sleep(200);
      }
    };
    const offsets = () =>
      committedOffsets(stage.admin, stage.config.consumer.groupId, stage.config.topic.name);
    try {
      await stage.setUp();
      const owners = await shardOwners(redis, stage.config.redis.prefix, PARTITIONS);
      checks.push(
        check(
          'the table\u2019s shards are spread over the cluster\u2019s primaries',
          owners.size > 1,
          [...owners].map(([port, shards]) => `:${port} holds p${shards.join(',p')}`).join('; '),
        ),
      );
      await publisher.connect();
      for (let i = 0; i < PROCESSORS; i++) await start(i);
      // A warm-up tenth first; the rest of the flow only once every processor is reading (three
      // `fleet process` starting at once take minutes on a loaded machine), so both kills land
      // mid-stream.
      const rate = () => total / durationS;
      const warmup = Math.round(total * 0.1);
      await drive({ plan, publisher, ledger, to: warmup, rate });
      await stage.committedOnce(300_000, slots[0]!.child);
      for (const slot of slots) await working(slot.child, slot.port, 180_000, 'up');
      await inGroup(stage, PROCESSORS, 180_000);
      const production = drive({ plan, publisher, ledger, from: warmup, rate });
      // Not vacuous: every processor got partitions and reads from them before anything is killed.
      for (const slot of slots) await working(slot.child, slot.port, 120_000, 'read');
      ctx.say('3 processors reading');

      await produced(0.3);
      const victim = Math.floor(random() * PROCESSORS);
      const atKill = parseOffsets(await offsets());
      const processorDown = ctx.faults.open(`processor ${victim + 1} SIGKILLed until its replacement read`);
      killed.add(slots[victim]!.child);
      await slots[victim]!.child.kill();
      const killedAt = Date.now();
      ctx.say(`processor ${victim + 1} killed`);

      // The Redis primary holding most shards, while the group is still rebalancing.
      await produced(0.4);
      const [primary, itsShards] = [...owners].sort((a, b) => b[1].length - a[1].length || a[0] - b[0])[0]!;
      const primaryDown = ctx.faults.open(`Redis primary :${primary} SIGKILLed until a replica was promoted`);
      await killClusterNode(redis, primary);
      const primaryKilledAt = Date.now();
      ctx.say(`Redis primary :${primary} (shards p${itsShards.join(',p')}) killed`);
      const promoted = await failedOver(redis, primary, 60_000);
      primaryDown();
      const failoverMs = Date.now() - primaryKilledAt;
      const lagAtFailover = await stage.lag();
      const producedAtFailover = ledger.counts().produced;
      checks.push(
        check(
          'the cluster failed over: a replica of the killed primary serves its slots, cluster_state ok',
          promoted !== primary,
          `:${promoted} promoted ${seconds(failoverMs)} after the kill of :${primary} (shards p${itsShards.join(',p')})`,
        ),
      );

      // The two survivors must take over the killed processor's partitions: every partition
      // commits past where it stood at the kill before the replacement starts.
      const survivors = slots.filter((_, i) => i !== victim);
      const takeoverDeadline = Date.now() + 120_000;
      let now = parseOffsets(await offsets());
      const behind = () =>
        Array.from({ length: PARTITIONS }, (_, p) => p).filter(
          (p) => (now.get(p) ?? -1) <= (atKill.get(p) ?? -1),
        );
      while (behind().length > 0 && Date.now() < takeoverDeadline) {
        const dead = survivors.find((s) => !s.child.alive);
        if (dead) throw new Error(`${dead.child.name} exited:\n${dead.child.tail()}`);
        await sleep(500);
        now = parseOffsets(await offsets().catch(() => ''));
      }
      checks.push(
        check(
          'the two survivors took over the killed processor\u2019s partitions (every partition committed past its offset at the kill)',
          behind().length === 0,
          `${seconds(Date.now() - killedAt)} after the kill; behind: ${behind().join(',') || 'none'}`,
        ),
      );
      await start(victim, slots[victim]!.file);
      await working(slots[victim]!.child, slots[victim]!.port, 240_000, 'up');
      processorDown();
      ctx.say(`replacement of processor ${victim + 1} up`);

      const driven = await production;
      checks.push(
        check(
          'positions of every vehicle still to write after the failover (the table check is not vacuous)',
          lagAtFailover + (total - producedAtFailover) >= plan.vehicles * 3,
          `${lagAtFailover} records waiting and ${total - producedAtFailover} still to be produced at the promotion, ${plan.vehicles} vehicles`,
        ),
      );
      const drainMs = await stage.drained(300_000, slots[0]!.child);
      checks.push(
        check(
          'the survivors and the replacement ran to the end without a restart',
          slots.every((s) => s.child.alive),
          slots.map((s) => `${s.child.name} pid ${s.child.pid}`).join(', '),
        ),
      );
      const stopped = await Promise.all(slots.map((s) => s.child.stop()));
      checks.push(
        check(
          'every processor stopped cleanly on SIGTERM',
          stopped.every((s) => s.graceful),
          stopped.map((s) => JSON.stringify(s.exit)).join(', '),
        ),
      );

      const { table } = stage.config.warehouse;
      const perFile = [];
      for (const slot of slots) perFile.push(await readDuckDbRows(slot.file, table, stage.config.topic.name));
      const union = unionByRecord(perFile);
      checks.push(
        check(
          'records stored by two processors hold the same position',
          union.conflicting.length === 0,
          `${union.inSeveralFiles} record(s) in two files, ${union.conflicting.length} conflicting${union.conflicting.length ? ` (e.g. ${union.conflicting.slice(0, 3).join(', ')})` : ''}`,
        ),
      );
      const verdict = await stage.verify(plan, ledger, union.rows);
      return {
        figures: verdict.figures,
        checks: [...checks, ...verdict.checks],
        notes: [
          `production ${seconds(driven.durationMs)}; final drain ${seconds(drainMs)}`,
          `rows per processor file: ${perFile.map((rows) => rows.length).join(' / ')}; ${union.inSeveralFiles} record(s) written again by the processor that took them over after the kill (stored once under the record key)`,
          ...notes,
          ...verdict.notes,
        ],
      };
    } finally {
      await publisher.close().catch(() => undefined);
      await stage.tearDown().catch(() => undefined);
      await stopSuiteRedisCluster(services.home).catch(() => undefined);
    }
  },
};
