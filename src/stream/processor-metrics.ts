import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { defaultRegistry, latencyBuckets } from '../metrics.js';

/** Every metric of the stream processor (`fleet_processor_*`). */
export interface ProcessorMetrics {
  /** Records handed downstream by the Kafka source. */
  recordsIn: Counter<'topic' | 'partition'>;
  /** Records that failed decoding or validation, by error class. */
  invalidRecords: Counter<'error_type'>;
  /** Records written to the DLQ, by where they were rejected (decode, table, warehouse). */
  deadLettered: Counter<'stage'>;
  batchesFlushed: Counter<'sink'>;
  recordsFlushed: Counter<'sink'>;
  flushDuration: Histogram<'sink'>;
  batchRecords: Histogram<'sink'>;
  sinkRetries: Counter<'sink'>;
  /** high watermark − next fetch offset, per partition, as of the last fetch. */
  consumerLag: Gauge<'topic' | 'partition'>;
  committedOffset: Gauge<'topic' | 'partition'>;
  /**
   * The group's lag per partition of the whole topic: high watermark − committed offset, read by
   * the processor itself (MSK's lag metric disappears during rebalances). Same value from every
   * processor of the group: read it with Maximum.
   */
  groupLag: Gauge<'topic' | 'partition'>;
  commits: Counter<'result'>;
  unflushedBytes: Gauge;
  /** 1 while fetching is paused by backpressure. */
  paused: Gauge;
  /** Event time (device `ts`) → the position is visible in Redis. */
  eventToVisible: Histogram;
  rebalances: Counter;
  /**
   * Records the warehouse skipped: `record` — stored before (a re-delivery after a crash or
   * rebalance); `position` — another record already holds their (vehicle id, event time) (a
   * device's retry that landed twice).
   */
  warehouseDuplicates: Counter<'kind'>;
}

const cache = new WeakMap<Registry, ProcessorMetrics>();

/** The processor metrics on `registry`, created once per registry (several processors share them). */
export function processorMetrics(registry: Registry = defaultRegistry): ProcessorMetrics {
  const cached = cache.get(registry);
  if (cached) return cached;
  const registers = [registry];
  const metrics: ProcessorMetrics = {
    recordsIn: new Counter({
      name: 'fleet_processor_records_in_total',
      help: 'Records read from Kafka and handed to the topology.',
      labelNames: ['topic', 'partition'],
      registers,
    }),
    invalidRecords: new Counter({
      name: 'fleet_processor_invalid_records_total',
      help: 'Records that failed decoding or validation.',
      labelNames: ['error_type'],
      registers,
    }),
    deadLettered: new Counter({
      name: 'fleet_processor_dead_lettered_total',
      help: 'Records the processor sent to the dead-letter topic, by the stage that rejected them.',
      labelNames: ['stage'],
      registers,
    }),
    batchesFlushed: new Counter({
      name: 'fleet_processor_batches_flushed_total',
      help: 'Micro-batches made durable, per sink.',
      labelNames: ['sink'],
      registers,
    }),
    recordsFlushed: new Counter({
      name: 'fleet_processor_records_flushed_total',
      help: 'Records made durable, per sink.',
      labelNames: ['sink'],
      registers,
    }),
    flushDuration: new Histogram({
      name: 'fleet_processor_flush_duration_seconds',
      help: 'Time to make one micro-batch durable, retries included.',
      labelNames: ['sink'],
      buckets: latencyBuckets,
      registers,
    }),
    batchRecords: new Histogram({
      name: 'fleet_processor_batch_records',
      help: 'Records per flushed micro-batch.',
      labelNames: ['sink'],
      buckets: [1, 10, 100, 500, 1000, 2500, 5000, 10_000, 25_000, 50_000],
      registers,
    }),
    sinkRetries: new Counter({
      name: 'fleet_processor_sink_retries_total',
      help: 'Sink writes retried after a retriable failure.',
      labelNames: ['sink'],
      registers,
    }),
    consumerLag: new Gauge({
      name: 'fleet_processor_consumer_lag',
      help: 'Records between the fetch position and the high watermark, per partition.',
      labelNames: ['topic', 'partition'],
      registers,
    }),
    committedOffset: new Gauge({
      name: 'fleet_processor_committed_offset',
      help: 'Last offset committed (next offset to read), per partition.',
      labelNames: ['topic', 'partition'],
      registers,
    }),
    groupLag: new Gauge({
      name: 'fleet_processor_group_lag',
      help: "High watermark minus the group's committed offset, per partition of the topic.",
      labelNames: ['topic', 'partition'],
      registers,
    }),
    commits: new Counter({
      name: 'fleet_processor_commits_total',
      help: 'Offset commits by result.',
      labelNames: ['result'],
      registers,
    }),
    unflushedBytes: new Gauge({
      name: 'fleet_processor_unflushed_bytes',
      help: 'Bytes read but not yet durable in every sink.',
      registers,
    }),
    paused: new Gauge({
      name: 'fleet_processor_fetch_paused',
      help: '1 while fetching is paused by backpressure.',
      registers,
    }),
    eventToVisible: new Histogram({
      name: 'fleet_processor_event_to_visible_seconds',
      help: 'Event time (device ts) to the position being visible in the Redis table.',
      buckets: latencyBuckets,
      registers,
    }),
    rebalances: new Counter({
      name: 'fleet_processor_rebalances_total',
      help: 'Consumer group rebalances this process took part in.',
      registers,
    }),
    warehouseDuplicates: new Counter({
      name: 'fleet_processor_warehouse_duplicates_total',
      help: 'Records the warehouse skipped: kind="record" stored before (re-delivery), kind="position" same vehicle and event time as a stored record (device retry).',
      labelNames: ['kind'],
      registers,
    }),
  };
  cache.set(registry, metrics);
  return metrics;
}
