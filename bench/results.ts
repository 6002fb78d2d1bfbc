import type { ConsumerPerfResult, ProducerPerfResult } from './kafka-tools.js';
import type { RateLatency } from './latency.js';
import type { MachineInfo } from './machine.js';
import { BENCH_STEPS, type BenchOptions } from './options.js';
import { comparePeer, type PeerComparison } from './peer-comparison.js';
import type { PeerResult } from './peer.js';
import type { ProducerResult } from './producer.js';
import type { RawConsumeResult } from './raw-consume.js';
import type { ClientAb } from './client-ab.js';
import type { RedisBenchmarkResult } from './redis-benchmark.js';
import type { ReplayResult } from './replay.js';
import type { RedisReplayResult } from './redis-replay.js';
import { cpuPerRecord, verificationErrors, vsBareKafka, type CpuPerRecord } from './headline.js';
import type { EventsReplayResult } from './events-replay.js';
import type { ScaleOutResult } from './scale-out.js';
import type { SimulatorResult } from './simulator.js';
import type { WireFormatResult } from './wire-format.js';

/** Everything one run measured; each part is absent when its step was skipped or failed. */
export interface BenchParts {
  /** `fleet simulate` at max rate: the producer figure. */
  simulator?: SimulatorResult;
  /** The pre-load through PositionPublisher directly (no simulation): the publisher's own max. */
  producer?: ProducerResult;
  producerPerf?: ProducerPerfResult;
  consumerPerf?: ConsumerPerfResult;
  rawConsume?: RawConsumeResult;
  /** `@platformatic/kafka` against kafkajs on the bare consume and produce jobs. */
  clients?: ClientAb;
  /** The publisher alone again, with PUBLISHER_KAFKA_CLIENT=platformatic, into a topic of its own. */
  publisherPlatformatic?: ProducerResult;
  redis?: RedisBenchmarkResult;
  replay?: ReplayResult;
  /** `fleet replay` (Redis only) of the same topic into a table of its own. */
  redisReplay?: RedisReplayResult;
  /** `fleet events-process` replaying the same topic with 1,000 geofences loaded. */
  events?: EventsReplayResult;
  /** The Kafka Streams peer's replay of the same topic (bench/peer). */
  peer?: PeerResult;
  latency?: RateLatency[];
  /** JSON vs Avro on the same positions: bytes on the wire, encode and decode CPU per record. */
  wire?: WireFormatResult;
  /** `--processors 1,2,3`: the same replay by N `fleet process` children in one group. */
  scaleOut?: ScaleOutResult;
  /** Step → error message, for steps that failed or did not verify (the run goes on; exit code 1). */
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
    /** `--processors`: the counts of the scale-out replays. */
    processors?: number[];
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
  /** The same publisher with PUBLISHER_KAFKA_CLIENT=platformatic (client A/B step). */
  publisher_platformatic_records_per_s: number | null;
  producer_perf_records_per_s: number | null;
  producer_perf_mb_per_s: number | null;
  redis_benchmark_set_per_s: number | null;
  redis_benchmark_hset_per_s: number | null;
  e2e_latency_ms: Record<string, P>;
  /** The bare Kafka path (publisher → broker → a consumer that only timestamps), same runs. */
  e2e_bare_kafka_latency_ms: Record<string, P>;
  /** Produce → Redis p99 ÷ the bare Kafka path's p99, per rate (target ≤ 3× at 5k msg/s). */
  e2e_latency_vs_bare_kafka: Record<string, number | null>;
  /** Rates whose latency observers gave up waiting for catch-up (their figures miss the slowest). */
  e2e_latency_incomplete: string[];
  e2e_warehouse_latency_ms: Record<string, P>;
  lookup_by_id_ms: { p50: number; p99: number } | null;
  nearby_ms: { p50: number; p99: number } | null;
  /** Lookups of the headline (highest-rate) run not in the percentiles: non-200 or failed, and never sent. */
  lookups_not_measured: { errors: number; skipped: number } | null;
  /** `fleet replay` (Redis only) on the same topic, and its ratio to the processor replay (target ≥ 2×). */
  redis_replay_records_per_s: number | null;
  redis_replay_vs_processor: number | null;
  /** CPU µs per record of every process, per run. */
  cpu_us_per_record: CpuPerRecord;
  processor_peak_rss_mb: number | null;
  /** `fleet events-process` from earliest on the same topic, with this many geofences loaded. */
  events_processor_records_per_s: number | null;
  events_processor_geofences: number | null;
  /** The Kafka Streams peer on the same topic, same run; ratios are ours ÷ peer. */
  peer_records_per_s: number | null;
  peer_peak_rss_mb: number | null;
  processor_vs_peer: PeerComparison;
  ratios: {
    processor_vs_consumer_perf: number | null;
    producer_vs_producer_perf: number | null;
    publisher_vs_producer_perf: number | null;
    publisher_platformatic_vs_producer_perf: number | null;
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

function lookupsNotMeasured(latency: RateLatency[] | undefined) {
  const last = latency?.at(-1);
  return last ? { errors: last.lookups.errors, skipped: last.lookups.skipped } : null;
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
  const custom = options.steps.size < BENCH_STEPS.length;
  const redisReplay = parts.redisReplay?.recordsPerS ?? null;
  const latency = parts.latency ?? [];
  const details: BenchParts = { ...parts, errors: { ...parts.errors, ...verificationErrors(parts) } };
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
      ...(options.processors.length ? { processors: options.processors } : {}),
    },
    machine,
    processor_records_per_s: processor,
    consumer_perf_records_per_s: consumerPerf,
    kafkajs_raw_consume_records_per_s: raw,
    producer_records_per_s: producer,
    producer_mb_per_s: headline?.mbPerS ?? null,
    producer_tool: headline?.tool ?? null,
    publisher_records_per_s: publisher,
    publisher_platformatic_records_per_s: parts.publisherPlatformatic?.recordsPerS ?? null,
    producer_perf_records_per_s: producerPerf,
    producer_perf_mb_per_s: parts.producerPerf?.mbPerS ?? null,
    redis_benchmark_set_per_s: parts.redis?.setPerS ?? null,
    redis_benchmark_hset_per_s: parts.redis?.hsetPerS ?? null,
    e2e_latency_ms: Object.fromEntries(latency.map((r) => [String(r.rate), pick(r.redis)])),
    e2e_bare_kafka_latency_ms: Object.fromEntries(
      latency.filter((r) => r.bareKafka).map((r) => [String(r.rate), pick(r.bareKafka!)]),
    ),
    e2e_latency_vs_bare_kafka: Object.fromEntries(latency.map((r) => [String(r.rate), vsBareKafka(r)])),
    e2e_latency_incomplete: latency
      .filter((r) => r.catchUp && !(r.catchUp.redis && r.catchUp.bareKafka))
      .map((r) => String(r.rate)),
    e2e_warehouse_latency_ms: Object.fromEntries(
      (parts.latency ?? []).filter((r) => r.warehouse).map((r) => [String(r.rate), pick(r.warehouse!)]),
    ),
    lookup_by_id_ms: lookupsUnderLoad(parts.latency, 'byId'),
    nearby_ms: lookupsUnderLoad(parts.latency, 'nearby'),
    lookups_not_measured: lookupsNotMeasured(parts.latency),
    redis_replay_records_per_s: redisReplay,
    redis_replay_vs_processor: ratio(redisReplay, processor),
    cpu_us_per_record: cpuPerRecord(parts),
    processor_peak_rss_mb: parts.replay?.peakRssMb ?? null,
    events_processor_records_per_s: parts.events?.recordsPerS ?? null,
    events_processor_geofences: parts.events?.geofences ?? null,
    peer_records_per_s: parts.peer?.recordsPerS ?? null,
    peer_peak_rss_mb: parts.peer?.peakRssMb ?? null,
    processor_vs_peer: comparePeer(
      parts.replay && { ...parts.replay, cpuSeconds: parts.replay.cpuSeconds.processor },
      parts.peer && { ...parts.peer, cpuSeconds: parts.peer.cpuSeconds.peer },
    ),
    ratios: {
      processor_vs_consumer_perf: ratio(processor, consumerPerf),
      producer_vs_producer_perf: ratio(producer, producerPerf),
      publisher_vs_producer_perf: ratio(publisher, producerPerf),
      publisher_platformatic_vs_producer_perf: ratio(parts.publisherPlatformatic?.recordsPerS, producerPerf),
      processor_vs_kafkajs_raw: ratio(processor, raw),
      kafkajs_raw_vs_consumer_perf: ratio(raw, consumerPerf),
    },
    details,
  };
}
