import type { Config } from '../src/config/index.js';
import { ServiceError } from '../src/errors.js';
import { exited } from './child-process.js';
import { spawnFleet } from './fleet-child.js';
import { committedTotal, endOffsetTotal, groupIsStable } from './offsets.js';
import { CpuMeter, MemorySampler } from './proc.js';
import type { BenchServices } from './services.js';
import { perSecond } from './stats.js';
import { countVehicles } from './stored.js';

export interface RedisReplayResult {
  records: number;
  /** From the replay group turning Stable to every offset committed (or the replay's exit). */
  recordsPerS: number;
  elapsedMs: number;
  startupMs: number;
  peakRssMb: number;
  /** CPU seconds during the replay: `replay` (the fleet replay process), `kafka`, `redis`. */
  cpuSeconds: Record<string, number>;
  verified: { redisVehicles: number; expectedVehicles: number; ok: boolean };
  exitCode: number | null;
}

/**
 * `fleet replay --from earliest` (Redis only: no warehouse, no changelog) into a fresh table prefix,
 * on the pre-loaded topic, timed like the processor replay: from its group turning Stable until the
 * group has committed every offset. The replay commits only what the table holds and exits when it
 * reached the end offsets; if it exits between two polls, its exit is the end (a few ms late, never
 * early). Afterwards the table must hold every vehicle.
 */
export async function redisOnlyReplay(
  services: BenchServices,
  config: Readonly<Config>,
  options: { vehicles: number; timeoutMs?: number },
): Promise<RedisReplayResult> {
  const { admin, logger } = services;
  const records = await endOffsetTotal(admin, config.topic.name);
  const group = config.consumer.groupId;
  const spawnedAt = performance.now();
  const fleet = spawnFleet(services, ['replay', '--from', 'earliest', '--group', group, '--keep-group'], {
    name: 'redis-replay',
    env: { TOPIC: config.topic.name, REDIS_PREFIX: config.redis.prefix, CONSUMER_GROUP: group },
  });
  let exitCode: number | null | undefined;
  void exited(fleet.child).then((code) => (exitCode = code));
  const memory = new MemorySampler(fleet.pid);
  const cpu = new CpuMeter({ replay: fleet.pid, ...services.pids }).start();
  const deadline = Date.now() + (options.timeoutMs ?? 30 * 60_000);
  const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const gone = () => exitCode !== undefined;
  try {
    while (!gone() && !(await groupIsStable(admin, group).catch(() => false))) {
      if (Date.now() > deadline) throw new ServiceError('timed out waiting for fleet replay to join');
      await pause(50);
    }
    const joinedAt = performance.now();
    logger.info({ records }, 'fleet replay joined; replaying into Redis only');
    let committed = 0;
    for (;;) {
      const exitedBefore = gone();
      committed = await committedTotal(admin, group, config.topic.name).catch(() => committed);
      if (committed >= records || exitedBefore) break;
      if (Date.now() > deadline) throw new ServiceError(`timed out: fleet replay committed ${committed}`);
      await pause(25);
    }
    const doneAt = performance.now();
    const measured = { cpuSeconds: cpu.stop(), peakRssMb: memory.stop().peakRssMb };
    const code = await fleet.stop();
    if (committed < records)
      throw new ServiceError(
        `fleet replay exited (code ${code}) after committing ${committed} of ${records}; see ${fleet.logFile}`,
      );
    const redisVehicles = await countVehicles(config, logger);
    return {
      records,
      recordsPerS: perSecond(records, doneAt - joinedAt),
      elapsedMs: Math.round(doneAt - joinedAt),
      startupMs: Math.round(joinedAt - spawnedAt),
      peakRssMb: measured.peakRssMb,
      cpuSeconds: measured.cpuSeconds,
      verified: {
        redisVehicles,
        expectedVehicles: options.vehicles,
        ok: redisVehicles === options.vehicles,
      },
      exitCode: code,
    };
  } finally {
    memory.stop();
    cpu.stop();
    await fleet.stop();
  }
}
