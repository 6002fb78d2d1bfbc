import { execFile } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { ServiceError } from '../errors.js';
import { commandExists, freePort, isAlive, spawnDetached, stopProcess, waitFor } from './processes.js';

const run = promisify(execFile);

/** A local Redis Cluster started by `fleet services up --redis-cluster N`. */
export interface LocalRedisCluster {
  /** Seed nodes for REDIS_CLUSTER_NODES (every node, primaries first). */
  nodes: string[];
  processes: { pid: number; port: number; busPort: number; dir: string }[];
  primaries: number;
  replicas: number;
}

export interface RedisClusterOptions {
  /** Where each node keeps its nodes.conf and log (`<dir>/node-<port>`). */
  dir: string;
  /** Primaries (at least 3: Redis Cluster needs a majority of primaries to fail over). */
  primaries: number;
  /** Replicas per primary. @default 0 */
  replicas?: number;
}

/**
 * Starts `primaries × (1 + replicas)` redis-server processes with `--cluster-enabled yes` on free
 * ports (client port and cluster-bus port both picked, so nothing depends on port + 10000 being
 * free) and joins them with `redis-cli --cluster create … --cluster-yes`. Resolves when every node
 * reports `cluster_state:ok`.
 */
export async function startRedisCluster(options: RedisClusterOptions): Promise<LocalRedisCluster> {
  const replicas = options.replicas ?? 0;
  if (!Number.isInteger(options.primaries) || options.primaries < 3) {
    throw new ServiceError('a Redis Cluster needs at least 3 primaries (--redis-cluster 3)');
  }
  for (const tool of ['redis-server', 'redis-cli']) {
    if (!commandExists(tool)) {
      throw new ServiceError(
        `${tool} not found: install Redis ≥ 7 (Debian: apt-get install -y redis-server)`,
      );
    }
  }
  rmSync(options.dir, { recursive: true, force: true });
  const total = options.primaries * (1 + replicas);
  const taken = new Set<number>();
  const pick = async () => {
    let port = await freePort();
    while (taken.has(port)) port = await freePort();
    taken.add(port);
    return port;
  };
  const processes: LocalRedisCluster['processes'] = [];
  try {
    for (let i = 0; i < total; i++) {
      const port = await pick();
      const busPort = await pick();
      const dir = path.join(options.dir, `node-${port}`);
      mkdirSync(dir, { recursive: true });
      const args = ['--port', String(port), '--cluster-port', String(busPort), '--bind', '127.0.0.1'];
      args.push('--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf');
      args.push('--cluster-node-timeout', '2000', '--save', '', '--appendonly', 'no', '--dir', dir);
      const pid = spawnDetached('redis-server', args, path.join(dir, 'redis.log'));
      processes.push({ pid, port, busPort, dir });
    }
    for (const node of processes) {
      await waitFor(
        () => answers(node.port, node.pid, node.dir),
        `redis-server on ${node.port}`,
        20_000,
        100,
      );
    }
    const nodes = processes.map((p) => `127.0.0.1:${p.port}`);
    await run('redis-cli', [
      '--cluster',
      'create',
      ...nodes,
      '--cluster-replicas',
      String(replicas),
      '--cluster-yes',
    ]);
    for (const node of processes) {
      await waitFor(() => clusterOk(node.port), `cluster state ok on ${node.port}`, 30_000, 200);
    }
    return { nodes, processes, primaries: options.primaries, replicas };
  } catch (err) {
    await stopRedisCluster({ processes });
    throw err;
  }
}

export async function stopRedisCluster(cluster: Pick<LocalRedisCluster, 'processes'>): Promise<void> {
  await Promise.all(cluster.processes.map((p) => stopProcess(p.pid, 5000)));
}

/** Which nodes of a recorded cluster still run. */
export function clusterAlive(cluster: LocalRedisCluster): number {
  return cluster.processes.filter((p) => isAlive(p.pid)).length;
}

/** A one-off connection to the node on `port` (no retries), closed after `fn`. */
export async function withClient<T>(port: number, fn: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis(port, '127.0.0.1', {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await fn(client);
  } finally {
    client.disconnect();
  }
}

async function answers(port: number, pid: number, dir: string): Promise<boolean> {
  if (!isAlive(pid)) throw new ServiceError(`redis-server exited; see ${path.join(dir, 'redis.log')}`);
  return withClient(port, async (c) => (await c.ping()) === 'PONG');
}

async function clusterOk(port: number): Promise<boolean> {
  return withClient(port, async (c) => /cluster_state:ok/.test(String(await c.call('CLUSTER', 'INFO'))));
}
