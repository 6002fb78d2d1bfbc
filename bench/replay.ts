import type { Config } from '../src/config/index.js';
import { mainThreadProfile, spawnFleet, waitWhileRunning } from './fleet-child.js';
import { committedTotal, endOffsetTotal, groupIsStable } from './offsets.js';
import { CpuMeter, MemorySampler } from './proc.js';
import { scrapeProcessor, type ProcessorStats } from './processor-metrics.js';
import { freePort } from '../src/local/processes.js';
import { commandSecondsBetween, commandStats } from './redis-stats.js';
import { summarizeProfile, type ProfileSummary } from './profile.js';
import { countStored } from './stored.js';
import { perSecond } from './stats.js';
import type { BenchServices } from './services.js';

export interface ReplayResult {
  records: number;
  /** From the consumer group turning Stable to every offset committed (= in Redis and warehouse). */
  recordsPerS: number;
  /** The same, from spawning `fleet process` (Node + tsx start, connections, group join). */
  recordsPerSWithStartup: number;
  startupMs: number;
  elapsedMs: number;
  peakRssMb: number;
  /** CPU seconds used during the replay by each process. */
  cpuSeconds: Record<string, number>;
  /** Redis server-side time per command (INFO commandstats): the Lua upsert's cost. */
  redisCommandSeconds: Record<string, number>;
  /** The processor's own metrics: batches and time per sink, memory when its RSS peaked. */
  processorStats?: ProcessorStats;
  /** Committed offsets each second (to see the rate's shape). */
  progress: { s: number; committed: number }[];
  verified: { redisVehicles: number; warehouseRows: number; expectedVehicles: number; ok: boolean };
  exitCode: number | null;
  profile?: ProfileSummary;
}

/**
 * Times `fleet process` from the earliest offset of a pre-loaded topic until its group has
 * committed every offset. The processor commits only after Redis and the warehouse hold a record,
 * so "all committed" is "everything stored"; the counts are verified after it stops.
 */
export async function processorReplay(
  services: BenchServices,
  config: Readonly<Config>,
  options: { vehicles: number; cpuProfDir?: string; timeoutMs?: number },
): Promise<ReplayResult> {
  const { admin, logger } = services;
  const records = await endOffsetTotal(admin, config.topic.name);
  const group = config.consumer.groupId;
  const redisBefore = await commandStats(services.redisUrl);
  const metricsPort = await freePort();
  const spawnedAt = performance.now();
  const fleet = spawnFleet(services, ['process'], {
    name: 'processor-replay',
    env: {
      TOPIC: config.topic.name,
      CONSUMER_GROUP: group,
      REDIS_PREFIX: config.redis.prefix,
      DUCKDB_PATH: config.warehouse.duckdbPath,
      AUTO_OFFSET_RESET: 'earliest',
      METRICS_PORT: String(metricsPort),
      STATE_CHANGELOG: String(config.topic.changelog !== undefined),
    },
    ...(options.cpuProfDir ? { cpuProfDir: options.cpuProfDir } : {}),
  });
  const memory = new MemorySampler(fleet.pid);
  const cpu = new CpuMeter({
    processor: fleet.pid,
    kafka: services.pids.kafka,
    redis: services.pids.redis,
  }).start();
  const timeoutMs = options.timeoutMs ?? 30 * 60_000;
  const progress: { s: number; committed: number }[] = [];
  let peakMemory: ProcessorStats['memoryMb'];
  const timeReplay = async () => {
    await waitWhileRunning(
      fleet,
      () => groupIsStable(admin, group),
      'the processor to join its group',
      120_000,
    );
    const joinedAt = performance.now();
    logger.info({ records }, 'processor joined; replaying');
    let lastProgress = 0;
    await waitWhileRunning(
      fleet,
      async () => {
        const committed = await committedTotal(admin, group, config.topic.name);
        const now = performance.now();
        if (now - lastProgress >= 1000) {
          lastProgress = now;
          progress.push({ s: Math.round((now - joinedAt) / 100) / 10, committed });
          const sample = await scrapeProcessor(metricsPort);
          if ((sample?.memoryMb?.rss ?? 0) > (peakMemory?.rss ?? 0)) peakMemory = sample?.memoryMb;
        }
        return committed >= records;
      },
      `the processor to commit ${records} records`,
      timeoutMs,
      25,
    );
    return { joinedAt, doneAt: performance.now() };
  };
  let timing: { joinedAt: number; doneAt: number };
  try {
    timing = await timeReplay();
  } catch (err) {
    memory.stop();
    await fleet.stop();
    throw err;
  }
  // Measured before the stop: shutdown (drain, disconnect) is not part of the replay.
  const measured = { cpuSeconds: cpu.stop(), peakRssMb: memory.stop().peakRssMb };
  const stats = await scrapeProcessor(metricsPort);
  const exitCode = await fleet.stop();
  const { joinedAt, doneAt } = timing;
  const redisCommandSeconds = commandSecondsBetween(redisBefore, await commandStats(services.redisUrl));
  const stored = await countStored(config, logger);
  const ok = stored.redisVehicles === options.vehicles && stored.warehouseRows === records;
  if (!ok) logger.error({ stored, records, vehicles: options.vehicles }, 'replay verification failed');
  const profileFile = options.cpuProfDir ? mainThreadProfile(options.cpuProfDir, fleet.pid) : undefined;
  const profile = profileFile ? await summarizeProfile(profileFile) : undefined;
  if (options.cpuProfDir && !profileFile)
    logger.warn({ dir: options.cpuProfDir }, 'no CPU profile of the processor found');
  if (exitCode !== 0) logger.warn({ exitCode, log: fleet.logFile }, 'processor did not exit cleanly');
  const elapsedMs = doneAt - joinedAt;
  return {
    records,
    recordsPerS: perSecond(records, elapsedMs),
    recordsPerSWithStartup: perSecond(records, doneAt - spawnedAt),
    startupMs: Math.round(joinedAt - spawnedAt),
    elapsedMs: Math.round(elapsedMs),
    peakRssMb: measured.peakRssMb,
    cpuSeconds: measured.cpuSeconds,
    redisCommandSeconds,
    ...(stats ? { processorStats: { ...stats, ...(peakMemory ? { memoryMb: peakMemory } : {}) } } : {}),
    progress,
    verified: { ...stored, expectedVehicles: options.vehicles, ok },
    exitCode,
    ...(profile ? { profile } : {}),
  };
}
