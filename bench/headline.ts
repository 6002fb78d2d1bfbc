import type { RateLatency } from './latency.js';
import { cpuUsPerRecord } from './peer-comparison.js';
import type { PeerResult } from './peer.js';
import type { RedisReplayResult } from './redis-replay.js';
import type { ReplayResult } from './replay.js';

/** The measured runs the headline figures come from (each absent when skipped or failed). */
export interface MeasuredRuns {
  replay?: ReplayResult;
  redisReplay?: RedisReplayResult;
  peer?: PeerResult;
  latency?: RateLatency[];
}

/** CPU µs per record of each process, per measured run (moves less with machine noise than records/s). */
export interface CpuPerRecord {
  /** The processor replay: `processor`, `kafka` (the broker), `redis`. */
  replay: Record<string, number> | null;
  /** `fleet replay` into Redis only: `replay`, `kafka`, `redis`. */
  redis_replay: Record<string, number> | null;
  /** The Kafka Streams peer's replay: `peer`, `kafka`, `redis`. */
  peer: Record<string, number> | null;
  /** Latency runs, per rate, per produced record: `processor`, `api`, `kafka`, `redis`. */
  latency: Record<string, Record<string, number>>;
}

/** Every process' CPU seconds over `records` as µs per record; null without records or figures. */
export function perProcess(
  cpuSeconds: Record<string, number> | undefined,
  records: number,
): Record<string, number> | null {
  if (!cpuSeconds || records <= 0) return null;
  const out: Record<string, number> = {};
  for (const [name, seconds] of Object.entries(cpuSeconds)) {
    const us = cpuUsPerRecord(seconds, records);
    if (us !== null) out[name] = us;
  }
  return Object.keys(out).length > 0 ? out : null;
}

export function cpuPerRecord(parts: MeasuredRuns): CpuPerRecord {
  const { replay, redisReplay, peer } = parts;
  const latency: Record<string, Record<string, number>> = {};
  for (const run of parts.latency ?? []) {
    const figures = perProcess(run.cpuSeconds, run.produced);
    if (figures) latency[String(run.rate)] = figures;
  }
  return {
    replay: replay ? perProcess(replay.cpuSeconds, replay.records) : null,
    redis_replay: redisReplay ? perProcess(redisReplay.cpuSeconds, redisReplay.records) : null,
    peer: peer ? perProcess(peer.cpuSeconds, peer.records) : null,
    latency,
  };
}

/**
 * Failed verifications as step errors: a replay whose stored counts differ from what was loaded
 * measured something else than it claims, so the run fails (exit code 1) and the table says why.
 */
export function verificationErrors(parts: MeasuredRuns): Record<string, string> {
  const errors: Record<string, string> = {};
  const replay = parts.replay;
  if (replay && !replay.verified.ok) {
    const v = replay.verified;
    errors['processor replay verification'] =
      `${v.redisVehicles} vehicles in Redis (expected ${v.expectedVehicles}), ` +
      `${v.warehouseRows} rows in DuckDB (expected ${replay.records})`;
  }
  const redisReplay = parts.redisReplay;
  if (redisReplay && !redisReplay.verified.ok) {
    const v = redisReplay.verified;
    errors['fleet replay (Redis only) verification'] =
      `${v.redisVehicles} vehicles in Redis (expected ${v.expectedVehicles})`;
  }
  return errors;
}

/** Ours ÷ the bare Kafka path, p99 of the same rate and run (null when either is missing or 0). */
export function vsBareKafka(run: RateLatency): number | null {
  const ours = run.redis.p99;
  const bare = run.bareKafka?.p99;
  if (bare === undefined || !(bare > 0) || !Number.isFinite(ours)) return null;
  return Math.round((ours / bare) * 100) / 100;
}

/** Why a latency figure is incomplete (empty when it is not): an observer gave up waiting. */
export function catchUpNote(run: RateLatency): string {
  const c = run.catchUp;
  if (!c) return '';
  const missed = [c.redis ? null : 'Redis', c.bareKafka ? null : 'the bare consumer'].filter(Boolean);
  if (missed.length === 0) return '';
  return `gave up waiting for ${missed.join(' and ')} to catch up after ${Math.round(c.waitedMs / 1000)} s: the slowest records are missing, real latency is higher`;
}

/** `processor 31.9 µs, kafka 3.2 µs, redis 11.4 µs`, or `—`. */
export function cpuText(figures: Record<string, number> | null | undefined): string {
  if (!figures) return '—';
  return Object.entries(figures)
    .map(([name, us]) => `${name} ${us} µs`)
    .join(', ');
}
