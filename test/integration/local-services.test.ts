import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { readState, servicesDown, status } from '../../src/local/services.js';
import { isAlive } from '../../src/local/processes.js';
import { silentLogger } from '../../src/logger.js';

const run = promisify(execFile);
const fleet = (args: string[], env: NodeJS.ProcessEnv) =>
  run(process.execPath, ['bin/fleet.js', ...args], { env: { ...process.env, ...env }, timeout: 120_000 });

describe('fleet services + topics CLI on a private broker', () => {
  const home = mkdtempSync(path.join(os.tmpdir(), 'fleet-services-'));
  const env = { FLEET_HOME: home, KAFKA_BROKERS: '', REDIS_URL: '', LOG_LEVEL: 'warn' };

  afterAll(async () => {
    await servicesDown(home, silentLogger);
    rmSync(home, { recursive: true, force: true });
  });

  it('services up starts Kafka + Redis and prints their addresses; topics create/describe use them', async () => {
    const up = await fleet(['services', 'up'], env);
    expect(up.stdout).toMatch(/^KAFKA_BROKERS=127\.0\.0\.1:\d+$/m);
    expect(up.stdout).toMatch(/^REDIS_URL=redis:\/\/127\.0\.0\.1:\d+$/m);
    const s = status(home);
    expect(s.kafka).toMatchObject({ alive: 1, total: 1 });
    expect(s.redis?.alive).toBe(true);

    // A second `up` reuses what runs.
    const pidBefore = readState(home).kafka!.nodes[0]!.pid;
    await fleet(['services', 'up'], env);
    expect(readState(home).kafka!.nodes[0]!.pid).toBe(pidBefore);

    const created = await fleet(['topics', 'create'], env);
    expect(created.stdout).toContain('vehicle_positions: created');
    expect(created.stdout).toContain('vehicle_positions.dlq: created');
    expect((await fleet(['topics', 'create'], env)).stdout).toContain('vehicle_positions: unchanged');

    const described = await fleet(['topics', 'describe'], env);
    expect(described.stdout).toContain('vehicle_positions: 3 partition(s), replication factor 1');
    expect(described.stdout).toMatch(/partition 2: leader 1/);
    expect(described.stdout).toContain('cleanup.policy=compact,delete');
    expect(described.stdout).toContain('retention.ms=86400000');
    expect(described.stdout).toContain('min.compaction.lag.ms=3600000');

    const differs = await fleet(['topics', 'create', '--partitions', '6'], env).catch(
      (e: { code: number; stdout: string }) => e,
    );
    expect('code' in differs && differs.code).toBe(3);
    expect(differs.stdout).toContain('partitions: expected 6, actual 3');
  }, 240_000); // a broker start and six CLI runs, each a fresh Node process

  it('services down leaves no broker or Redis process of ours running', async () => {
    const state = readState(home);
    const pids = [...state.kafka!.nodes.map((n) => n.pid), state.redis!.pid];
    const down = await fleet(['services', 'down'], env);
    expect(down.stdout).toContain('services stopped');
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
    expect(status(home)).toEqual({ kafka: null, redis: null, redisCluster: null, schemaRegistry: null });
  });

  it('services up --keep-data after down brings the same cluster back, topics included', async () => {
    const up = await fleet(['services', 'up', '--keep-data'], env);
    expect(up.stdout).toMatch(/^KAFKA_BROKERS=127\.0\.0\.1:\d+$/m);
    const described = await fleet(['topics', 'describe'], env);
    expect(described.stdout).toContain('vehicle_positions: 3 partition(s), replication factor 1');
  }, 180_000);
});
