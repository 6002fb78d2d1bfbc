import { URL } from 'node:url';
import { ServiceError } from '../src/errors.js';
import { runCaptured } from './child-process.js';
import type { BenchServices } from './services.js';

/** redis-benchmark's pipelined write ceilings on the bench's Redis. */
export interface RedisBenchmarkResult {
  /** Pipeline depth (-P). */
  pipeline: number;
  /** SET of a value as large as one encoded position, random keys over the fleet. */
  setPerS: number;
  /** HSET of a position-shaped hash (what the state table stores per vehicle). */
  hsetPerS: number;
}

const PIPELINE = 64;

async function run(services: BenchServices, args: string[]): Promise<number> {
  const url = new URL(services.redisUrl);
  const out = await runCaptured(
    'redis-benchmark',
    ['-h', url.hostname, '-p', url.port, '--csv', '-P', String(PIPELINE), ...args],
    { timeoutMs: 10 * 60_000 },
  );
  const rps = out.code === 0 ? parseRedisBenchmarkCsv(out.stdout) : null;
  if (rps === null) {
    throw new ServiceError(
      `redis-benchmark failed (exit ${out.code}): ${(out.stdout + out.stderr).slice(-1000)}`,
    );
  }
  return rps;
}

/** Requests/s of the first test in `redis-benchmark --csv` output (`"test","rps",...` header first). */
export function parseRedisBenchmarkCsv(stdout: string): number | null {
  const row = stdout
    .split('\n')
    .map((l) => l.split('","'))
    .find((cells) => cells.length > 2 && cells[0] !== '"test');
  const rps = Number(row?.[1]);
  return Number.isFinite(rps) && rps > 0 ? Math.round(rps) : null;
}

/** Pipelined SET and HSET, `requests` each, keys spread over `vehicles`. Cleans up its keys. */
export async function redisBenchmark(
  services: BenchServices,
  requests: number,
  vehicles: number,
  valueSize: number,
): Promise<RedisBenchmarkResult> {
  const common = ['-n', String(requests), '-r', String(vehicles)];
  const setPerS = await run(services, [...common, '-d', String(valueSize), '-t', 'set']);
  const hsetPerS = await run(services, [
    ...common,
    'hset',
    'bench:redis:__rand_int__',
    'vehicleId',
    'veh-__rand_int__',
    'ts',
    '1732560000000',
    'lat',
    '52.520008',
    'lon',
    '13.404954',
    'speed',
    '42.5',
    'heading',
    '181',
    'partition',
    '1',
    'offset',
    '123456',
  ]);
  // FLUSHALL is fine here: this is the bench's own, private redis-server, not yet used by the pipeline.
  await runCaptured('redis-cli', ['-u', services.redisUrl, 'FLUSHALL']);
  return { pipeline: PIPELINE, setPerS, hsetPerS };
}
