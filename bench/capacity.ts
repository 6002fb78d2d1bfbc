/**
 * Recomputes the capacity table of docs/capacity.md from the newest bench results:
 *   npx tsx bench/capacity.ts [bench/results/<date>.json]
 * Measured inputs come from the results file (replay step: CPU seconds of processor, broker and
 * Redis per record; simulator: bytes per record). The other inputs are assumptions, printed with
 * the table; change them here, not in the doc.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { BenchResults } from './results.js';

/** Measured here (docs/capacity.md says how): Redis bytes per vehicle across the shard's keys. */
const REDIS_BYTES_PER_VEHICLE = 685;
const ASSUMPTIONS = {
  reportIntervalS: 5,
  /** Run every CPU at most this busy, for peaks and rebalances. */
  targetUtilisation: 0.5,
  /** Redis executes commands on one thread: one core per shard. */
  redisCoresPerShard: 1,
  /** Memory head room over the data (fragmentation, replication buffers, fork on snapshot). */
  redisMemoryFactor: 2,
  /** Keep a shard well below a node's memory (GB) so it can move and fail over quickly. */
  redisGbPerShard: 12,
  /**
   * AWS documentation, not measured: "45 MBps of data ingress … 3 express.m7g.large brokers" (MSK
   * best practices for Express brokers), i.e. 15 MB/s of client ingress per express.m7g.large.
   */
  expressLargeIngressMbPerS: 15,
  /** MSK brokers spread over 3 availability zones: a multiple of 3, at least 3. */
  brokerMultiple: 3,
  /** Vehicles: 10k … 10M. */
  fleets: [10_000, 100_000, 1_000_000, 10_000_000],
};

const dir = path.resolve('bench/results');
const file =
  process.argv[2] ??
  path.join(
    dir,
    readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort()
      .at(-1)!,
  );
const results = JSON.parse(readFileSync(file, 'utf8')) as BenchResults;
const replay = results.details.replay;
if (!replay?.cpuSeconds) throw new Error(`${file} has no replay step with CPU seconds`);
const perRecordUs = (seconds: number | undefined) => ((seconds ?? 0) * 1e6) / replay.records;
const cpu = {
  processor: perRecordUs(replay.cpuSeconds.processor),
  broker: perRecordUs(replay.cpuSeconds.kafka),
  redis: perRecordUs(replay.cpuSeconds.redis),
};
const recordBytes =
  results.details.simulator?.avgRecordBytes ?? results.details.producer?.avgRecordBytes ?? 200;

const a = ASSUMPTIONS;
const rows = a.fleets.map((vehicles) => {
  const rate = vehicles / a.reportIntervalS;
  const cores = (usPerRecord: number) => (rate * usPerRecord) / 1e6 / a.targetUtilisation;
  const processorTasks = Math.max(1, Math.ceil(cores(cpu.processor)));
  const redisMemGb = (vehicles * REDIS_BYTES_PER_VEHICLE * a.redisMemoryFactor) / 1e9;
  const redisShards = Math.max(
    1,
    Math.ceil(cores(cpu.redis) / a.redisCoresPerShard),
    Math.ceil(redisMemGb / a.redisGbPerShard),
  );
  // A processor task owns whole partitions, a Redis shard whole partitions: enough for both, rounded
  // up to a multiple of 6 so 1, 2, 3 or 6 nodes share them evenly.
  const partitions = Math.ceil(Math.max(3, processorTasks, redisShards) / 6) * 6;
  return {
    vehicles,
    rate,
    mbPerS: (rate * recordBytes) / 1e6,
    partitions,
    processorTasks,
    brokerCores: cores(cpu.broker),
    redisShards,
    redisMemGb,
    rowsPerDay: rate * 86_400,
    mskBrokers:
      Math.ceil(
        Math.max(a.brokerMultiple, (rate * recordBytes) / 1e6 / a.expressLargeIngressMbPerS) /
          a.brokerMultiple,
      ) * a.brokerMultiple,
    // Snowpipe Streaming (high-performance) bills per uncompressed GB of values ingested: the wire
    // size of a record is an upper bound of its values (the JSON keys are not billed).
    warehouseGbPerDay: (rate * 86_400 * recordBytes) / 1e9,
  };
});

const n = (x: number, digits = 0) => x.toLocaleString('en-US', { maximumFractionDigits: digits });
process.stdout.write(
  `Inputs from ${path.relative(process.cwd(), file)} (${results.date}, ${results.machine.cpu}, ${results.machine.cores} cores):\n` +
    `  CPU per record: processor ${n(cpu.processor, 1)} µs, broker (fetch side) ${n(cpu.broker, 1)} µs, Redis ${n(cpu.redis, 1)} µs; ` +
    `${n(recordBytes)} bytes per record; Redis ${REDIS_BYTES_PER_VEHICLE} bytes per vehicle\n` +
    `  assumptions: ${JSON.stringify({ ...a, fleets: undefined })}\n\n`,
);
process.stdout.write(
  '| vehicles | records/s | MB/s in | partitions | processor tasks (1 vCPU) | broker vCPU (fetch) | MSK brokers (express.m7g.large) | Redis shards | Redis memory GB | warehouse rows/day | warehouse GB/day (billed by Snowpipe Streaming) |\n' +
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n',
);
for (const r of rows) {
  process.stdout.write(
    `| ${n(r.vehicles)} | ${n(r.rate)} | ${n(r.mbPerS, 1)} | ${r.partitions} | ${r.processorTasks} | ${n(r.brokerCores, 1)} | ${r.mskBrokers} | ${r.redisShards} | ${n(r.redisMemGb, 1)} | ${n(r.rowsPerDay)} | ${n(r.warehouseGbPerDay)} |\n`,
  );
}
