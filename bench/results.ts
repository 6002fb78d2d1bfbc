import type { ConsumerPerfResult, ProducerPerfResult } from './kafka-tools.js';
import type { RateLatency } from './latency.js';
import type { MachineInfo } from './machine.js';
import type { BenchOptions } from './options.js';
import type { ProducerResult } from './producer.js';
import type { RawConsumeResult } from './raw-consume.js';
import type { RedisBenchmarkResult } from './redis-benchmark.js';
import type { ReplayResult } from './replay.js';
import type { SimulatorResult } from './simulator.js';

/** Everything one run measured; each part is absent when its step was skipped or failed. */
export interface BenchParts {
  /** `fleet simulate` at max rate: the producer figure. */
  simulator?: SimulatorResult;
  /** The pre-load through PositionPublisher directly (no simulation): the publisher's own max. */
  producer?: ProducerResult;
  producerPerf?: ProducerPerfResult;
  consumerPerf?: ConsumerPerfResult;
  rawConsume?: RawConsumeResult;
  redis?: RedisBenchmarkResult;
  replay?: ReplayResult;
  latency?: RateLatency[];
  /** Step → error message, for steps that failed (the run goes on). */
  errors: Record<string, string>;
}

type P = { p50: number; p95: number; p99: number; max: number };

/** The committed results file (bench/results/<date>.json). Top-level keys are the issue's. */
export interface BenchResults {
  date: string;
  mode: 'quick' | 'full' | 'custom';
  options: {
    records: number;
    vehicles: number;
    rates: number[];
    duration_s: number;
    partitions: number;
    /** `compiled` (dist/, as deployed) or `tsx` (from source, when the build failed). */
    runtime?: string;
    note?: string;
  };
  machine: MachineInfo;
  processor_records_per_s: number | null;
  consumer_perf_records_per_s: number | null;
  kafkajs_raw_consume_records_per_s: number | null;
  /** `fleet simulate` max rate (falls back to the publisher pre-load when the simulator step failed). */
  producer_records_per_s: number | null;
  producer_mb_per_s: number | null;
  producer_tool: string | null;
  /** PositionPublisher alone (the pre-load), without the simulation. */
  publisher_records_per_s: number | null;
  producer_perf_records_per_s: number | null;
  producer_perf_mb_per_s: number | null;
  redis_benchmark_set_per_s: number | null;
  redis_benchmark_hset_per_s: number | null;
  e2e_latency_ms: Record<string, P>;
  e2e_warehouse_latency_ms: Record<string, P>;
  lookup_by_id_ms: { p50: number; p99: number } | null;
  nearby_ms: { p50: number; p99: number } | null;
  processor_peak_rss_mb: number | null;
  ratios: {
    processor_vs_consumer_perf: number | null;
    producer_vs_producer_perf: number | null;
    publisher_vs_producer_perf: number | null;
    processor_vs_kafkajs_raw: number | null;
    kafkajs_raw_vs_consumer_perf: number | null;
  };
  details: BenchParts;
}

const ratio = (a: number | null | undefined, b: number | null | undefined) =>
  a && b ? Math.round((a / b) * 100) / 100 : null;

const pick = ({ p50, p95, p99, max }: P): P => ({ p50, p95, p99, max });

/** Lookups under load: the worst (highest-rate) run, the honest figure for the target. */
function lookupsUnderLoad(latency: RateLatency[] | undefined, which: 'byId' | 'nearby') {
  const last = latency?.at(-1);
  if (!last) return null;
  const s = last.lookups[which];
  return { p50: s.p50, p99: s.p99 };
}

export function buildResults(
  options: BenchOptions,
  machine: MachineInfo,
  parts: BenchParts,
  date = new Date(),
  runtime?: string,
): BenchResults {
  const processor = parts.replay?.recordsPerS ?? null;
  const consumerPerf = parts.consumerPerf?.recordsPerS ?? null;
  const raw = parts.rawConsume?.recordsPerS ?? null;
  const headline = parts.simulator ?? parts.producer;
  const producer = headline?.recordsPerS ?? null;
  const publisher = parts.producer?.recordsPerS ?? null;
  const producerPerf = parts.producerPerf?.recordsPerS ?? null;
  const custom = options.steps.size < 4;
  return {
    date: date.toISOString(),
    mode: custom ? 'custom' : options.quick ? 'quick' : 'full',
    options: {
      records: options.records,
      vehicles: options.vehicles,
      rates: options.rates,
      duration_s: options.durationMs / 1000,
      partitions: options.partitions,
      ...(runtime ? { runtime } : {}),
      ...(options.note ? { note: options.note } : {}),
    },
    machine,
    processor_records_per_s: processor,
    consumer_perf_records_per_s: consumerPerf,
    kafkajs_raw_consume_records_per_s: raw,
    producer_records_per_s: producer,
    producer_mb_per_s: headline?.mbPerS ?? null,
    producer_tool: headline?.tool ?? null,
    publisher_records_per_s: publisher,
    producer_perf_records_per_s: producerPerf,
    producer_perf_mb_per_s: parts.producerPerf?.mbPerS ?? null,
    redis_benchmark_set_per_s: parts.redis?.setPerS ?? null,
    redis_benchmark_hset_per_s: parts.redis?.hsetPerS ?? null,
    e2e_latency_ms: Object.fromEntries((parts.latency ?? []).map((r) => [String(r.rate), pick(r.redis)])),
    e2e_warehouse_latency_ms: Object.fromEntries(
      (parts.latency ?? []).filter((r) => r.warehouse).map((r) => [String(r.rate), pick(r.warehouse!)]),
    ),
    lookup_by_id_ms: lookupsUnderLoad(parts.latency, 'byId'),
    nearby_ms: lookupsUnderLoad(parts.latency, 'nearby'),
    processor_peak_rss_mb: parts.replay?.peakRssMb ?? null,
    ratios: {
      processor_vs_consumer_perf: ratio(processor, consumerPerf),
      producer_vs_producer_perf: ratio(producer, producerPerf),
      publisher_vs_producer_perf: ratio(publisher, producerPerf),
      processor_vs_kafkajs_raw: ratio(processor, raw),
      kafkajs_raw_vs_consumer_perf: ratio(raw, consumerPerf),
    },
    details: parts,
  };
}
