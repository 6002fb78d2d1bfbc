import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { isAlive, waitFor } from '../src/local/processes.js';
import { stopRedisCluster, withClient, type LocalRedisCluster } from '../src/local/redis-cluster.js';
import { readState, servicesUp } from '../src/local/services.js';
import type { Logger } from '../src/logger.js';
import { shardKeys } from '../src/state/shard-keys.js';
import { sigkill } from './cluster.js';

/**
 * A Redis Cluster for one scenario, started through `fleet services up --redis-cluster N
 * --redis-replicas R` under the suite's home (recorded in its services.json, so `services down`
 * and the suite's Ctrl-C handler stop it too), and the faults injected into it.
 */

export async function startSuiteRedisCluster(
  home: string,
  primaries: number,
  replicas: number,
  logger: Logger,
): Promise<LocalRedisCluster> {
  const state = await servicesUp({
    home,
    kafka: false,
    redisCluster: primaries,
    redisReplicas: replicas,
    logger,
  });
  return state.redisCluster!;
}

/** Stops the cluster and forgets it, so a later `services down` never signals its (reused) pids. */
export async function stopSuiteRedisCluster(home: string): Promise<void> {
  const state = readState(home);
  if (!state.redisCluster) return;
  await stopRedisCluster(state.redisCluster);
  delete state.redisCluster;
  // Same file `services up/down` use (src/local/services.ts keeps it under <home>/run).
  writeFileSync(path.resolve(home, 'run', 'services.json'), JSON.stringify(state, null, 2));
}

/** One node as `CLUSTER NODES` lists it. */
export interface ClusterNode {
  id: string;
  port: number;
  primary: boolean;
  /** Flagged `fail` (or `fail?`) by the cluster. */
  failed: boolean;
  /** Id of its primary (replicas), else undefined. */
  primaryId?: string;
  slots: [number, number][];
}

const onNode = withClient;

/** `CLUSTER NODES` as seen by the node on `port`. */
export async function clusterNodes(port: number): Promise<ClusterNode[]> {
  const text = String(await onNode(port, (c) => c.call('CLUSTER', 'NODES')));
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const [id, address, flags, primaryId, , , , , ...slots] = line.split(' ');
      const flagList = flags!.split(',');
      return {
        id: id!,
        port: Number(address!.split('@')[0]!.split(':').pop()),
        primary: flagList.includes('master'),
        failed: flagList.includes('fail') || flagList.includes('fail?'),
        ...(primaryId && primaryId !== '-' ? { primaryId } : {}),
        slots: slots
          .filter((s) => /^\d/.test(s))
          .map((s) => {
            const [from, to] = s.split('-').map(Number);
            return [from!, to ?? from!] as [number, number];
          }),
      };
    });
}

/** The port of a live node of the cluster (to ask it about the others). */
export function liveNode(cluster: LocalRedisCluster): number {
  const node = cluster.processes.find((p) => isAlive(p.pid));
  if (!node) throw new Error('no node of the Redis Cluster is alive');
  return node.port;
}

/** Which primary (by port) holds each partition's shard of the table under `prefix`. */
export async function shardOwners(
  cluster: LocalRedisCluster,
  prefix: string,
  partitions: number,
): Promise<Map<number, number[]>> {
  const port = liveNode(cluster);
  const nodes = (await clusterNodes(port)).filter((n) => n.primary && !n.failed);
  const owners = new Map<number, number[]>();
  for (let partition = 0; partition < partitions; partition++) {
    const key = shardKeys(prefix, partition).states;
    const slot = Number(await onNode(port, (c) => c.call('CLUSTER', 'KEYSLOT', key)));
    const owner = nodes.find((n) => n.slots.some(([from, to]) => slot >= from && slot <= to));
    if (!owner) throw new Error(`no primary serves slot ${slot} (${key})`);
    owners.set(owner.port, [...(owners.get(owner.port) ?? []), partition]);
  }
  return owners;
}

/** kill -9 of the cluster node on `port`. */
export async function killClusterNode(cluster: LocalRedisCluster, port: number): Promise<void> {
  const node = cluster.processes.find((p) => p.port === port);
  if (!node) throw new Error(`no Redis Cluster node on port ${port}`);
  await sigkill(node.pid);
}

/**
 * Waits until the cluster failed over from the dead primary on `port`: a former replica of it is
 * a primary now, serving its slots, and a live node reports `cluster_state:ok`. Returns the new
 * primary's port.
 */
export async function failedOver(
  cluster: LocalRedisCluster,
  port: number,
  timeoutMs: number,
): Promise<number> {
  const before = await clusterNodes(liveNode(cluster)).catch(() => undefined);
  const dead = before?.find((n) => n.port === port);
  let promoted: number | undefined;
  await waitFor(
    async () => {
      const at = liveNode(cluster);
      const nodes = await clusterNodes(at);
      const victim = nodes.find((n) => n.port === port) ?? dead;
      const successor = nodes.find(
        (n) =>
          n.primary &&
          !n.failed &&
          n.port !== port &&
          victim !== undefined &&
          n.slots.length > 0 &&
          (n.primaryId === victim.id || before?.find((b) => b.port === n.port)?.primaryId === victim.id),
      );
      const ok = /cluster_state:ok/.test(String(await onNode(at, (c) => c.call('CLUSTER', 'INFO'))));
      promoted = successor?.port;
      return ok && successor !== undefined;
    },
    `the Redis Cluster to promote a replica of ${port}`,
    timeoutMs,
    250,
  );
  return promoted!;
}
