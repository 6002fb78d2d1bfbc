import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../src/config/index.js';
import { ServiceError } from '../src/errors.js';
import { UPSERT_LUA } from '../src/state/upsert-script.js';
import { supervise, waitWhileRunning, type FleetChild } from './fleet-child.js';
import { committedTotal, endOffsetTotal, groupIsStable } from './offsets.js';
import { ensurePeerJar } from './peer-build.js';
import { cpuUsPerRecord } from './peer-comparison.js';
import { CpuMeter, MemorySampler } from './proc.js';
import type { BenchServices } from './services.js';
import { perSecond } from './stats.js';
import { countStored } from './stored.js';

/**
 * JVM flags of the peer: a heap cap a 250k-vehicle replay fits in comfortably, and the serial
 * collector (no concurrent GC threads competing with Kafka and Redis for the 2 cores). Override
 * with BENCH_PEER_JAVA_OPTS to compare (e.g. `-Xmx256m -XX:+UseG1GC`).
 */
export const PEER_JAVA_OPTS = ['-Xmx256m', '-XX:+UseSerialGC'];

export interface PeerResult {
  tool: string;
  jvmFlags: string[];
  records: number;
  /** From the group turning Stable to every offset committed, as our replay is timed. */
  recordsPerS: number;
  recordsPerSWithStartup: number;
  startupMs: number;
  elapsedMs: number;
  peakRssMb: number;
  /** CPU seconds used during the replay: `peer` (the JVM), `kafka`, `redis`. */
  cpuSeconds: Record<string, number>;
  cpuUsPerRecord: number | null;
  verified: { redisVehicles: number; warehouseRows: number; ok: boolean };
  exitCode: number | null;
  build: { built: boolean; ms: number };
}

/** Starts the peer's JVM as our child (the JVM itself: its pid is what RSS and CPU are read from). */
function spawnPeer(
  services: BenchServices,
  jar: string,
  env: NodeJS.ProcessEnv,
  flags: string[],
): FleetChild {
  const logFile = path.join(services.workDir, 'kafka-streams-peer.log');
  const fd = openSync(logFile, 'a');
  let child;
  try {
    child = spawn('java', [...flags, '-jar', jar], { env, stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  if (child.pid === undefined) throw new ServiceError('could not start the Kafka Streams peer (java)');
  return supervise(child, 'the Kafka Streams peer', logFile, 60_000);
}

/**
 * Runs the Kafka Streams peer (bench/peer) on the pre-loaded topic with its own group, Redis prefix
 * and DuckDB file, timed and verified exactly like {@link processorReplay}. A wrong vehicle or row
 * count fails the step.
 */
export async function peerReplay(
  services: BenchServices,
  config: Readonly<Config>,
  options: { vehicles: number; timeoutMs?: number },
): Promise<PeerResult> {
  const { admin, logger } = services;
  const build = await ensurePeerJar(logger);
  const records = await endOffsetTotal(admin, config.topic.name);
  const group = config.consumer.groupId;
  const luaFile = path.join(services.workDir, 'upsert.lua');
  writeFileSync(luaFile, UPSERT_LUA);
  const stateDir = path.join(services.workDir, 'peer-state');
  mkdirSync(stateDir, { recursive: true });
  const flags = process.env.BENCH_PEER_JAVA_OPTS?.split(/\s+/).filter(Boolean) ?? PEER_JAVA_OPTS;
  const extra = process.env.BENCH_PEER_ENV
    ? (JSON.parse(process.env.BENCH_PEER_ENV) as NodeJS.ProcessEnv)
    : {};
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    KAFKA_BROKERS: services.brokers.join(','),
    TOPIC: config.topic.name,
    CONSUMER_GROUP: group,
    AUTO_OFFSET_RESET: 'earliest',
    REDIS_URL: services.redisUrl,
    REDIS_PREFIX: config.redis.prefix,
    DUCKDB_PATH: config.warehouse.duckdbPath,
    PEER_UPSERT_LUA: luaFile,
    PEER_STATE_DIR: stateDir,
    ...extra,
  };
  const spawnedAt = performance.now();
  const peer = spawnPeer(services, build.jar, env, flags);
  const memory = new MemorySampler(peer.pid);
  const cpu = new CpuMeter({
    peer: peer.pid,
    kafka: services.pids.kafka,
    redis: services.pids.redis,
  }).start();
  let joinedAt: number;
  try {
    await waitWhileRunning(peer, () => groupIsStable(admin, group), 'the peer to join its group', 120_000);
    joinedAt = performance.now();
    logger.info({ records }, 'peer joined; replaying');
    await waitWhileRunning(
      peer,
      async () => (await committedTotal(admin, group, config.topic.name)) >= records,
      `the peer to commit ${records} records`,
      options.timeoutMs ?? 30 * 60_000,
      25,
    );
  } catch (err) {
    memory.stop();
    await peer.stop();
    throw err;
  }
  const doneAt = performance.now();
  const measured = { cpuSeconds: cpu.stop(), peakRssMb: memory.stop().peakRssMb };
  const exitCode = await peer.stop();
  const stored = await countStored(config, logger);
  const ok = stored.redisVehicles === options.vehicles && stored.warehouseRows === records;
  if (!ok) {
    throw new ServiceError(
      `peer verification failed: ${stored.redisVehicles} vehicles in Redis (expected ${options.vehicles}), ${stored.warehouseRows} rows in DuckDB (expected ${records}); see ${peer.logFile}`,
    );
  }
  const elapsedMs = doneAt - joinedAt;
  return {
    tool: 'Kafka Streams 4.1.1 (Processor API, at_least_once) + Jedis + DuckDB JDBC appender',
    jvmFlags: flags,
    records,
    recordsPerS: perSecond(records, elapsedMs),
    recordsPerSWithStartup: perSecond(records, doneAt - spawnedAt),
    startupMs: Math.round(joinedAt - spawnedAt),
    elapsedMs: Math.round(elapsedMs),
    peakRssMb: measured.peakRssMb,
    cpuSeconds: measured.cpuSeconds,
    cpuUsPerRecord: cpuUsPerRecord(measured.cpuSeconds.peer, records),
    verified: { ...stored, ok },
    exitCode,
    build: { built: build.built, ms: build.ms },
  };
}
