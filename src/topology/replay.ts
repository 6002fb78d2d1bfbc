import type { Admin } from 'kafkajs';
import type { Config } from '../config/config.js';
import { errorMessage } from '../errors.js';
import { createKafka } from '../kafka/client.js';
import { silentLogger } from '../logger.js';
import { startProcessor, type ProcessorDeps } from './processor.js';

export interface ReplayOptions {
  /** `earliest`, or an epoch-ms time: replay records appended at or after it. */
  from: 'earliest' | number;
  /** Also re-load the warehouse (idempotent: existing rows are skipped). @default false */
  warehouse?: boolean;
  /** Consumer group of the replay. @default `<CONSUMER_GROUP>-replay-<timestamp>` (always fresh) */
  groupId?: string;
  /** Keep the replay group's committed offsets afterwards. @default false (deleted) */
  keepGroup?: boolean;
  /** Called about every `progressIntervalMs` and once at the end. */
  onProgress?: (progress: ReplayProgress) => void;
  /** @default 1000 */
  progressIntervalMs?: number;
  /** Finish when nothing moved for this long though targets are not reached (tail gone). @default 15000 */
  idleTimeoutMs?: number;
}

export interface ReplayProgress {
  records: number;
  recordsPerSec: number;
  /** Offsets still to go until the high watermarks the replay started with. */
  remaining: number;
  elapsedMs: number;
  done: boolean;
}

export interface ReplayResult {
  groupId: string;
  records: number;
  durationMs: number;
  /** False when it stopped on the idle timeout before every target offset was durable. */
  complete: boolean;
}

/**
 * Rebuilds the latest-state table from the (compacted) topic: a fresh consumer group reads every
 * partition up to the end offsets it found at start, through the same topology (forward-only
 * upserts make it safe to run against a live table), optionally re-loading the warehouse
 * idempotently. Invalid records are skipped (they are in the DLQ already).
 */
export async function runReplay(
  config: Readonly<Config>,
  options: ReplayOptions,
  deps: ProcessorDeps = {},
): Promise<ReplayResult> {
  const logger = (deps.logger ?? silentLogger).child({ component: 'replay' });
  const kafka = deps.kafka ?? createKafka(config.kafka, { logger, role: 'replay' });
  const groupId = options.groupId ?? `${config.consumer.groupId}-replay-${Date.now()}`;
  const admin = kafka.admin();
  await admin.connect();
  try {
    const targets = await replayRanges(admin, config.topic.name, options.from);
    if (options.from !== 'earliest') await startAt(admin, groupId, config.topic.name, options.from);
    const processor = await startProcessor(config, {
      ...deps,
      logger,
      kafka,
      groupId,
      fromBeginning: true,
      deadLetters: null,
      observeLatency: false,
      ...(options.warehouse ? {} : { warehouse: null }),
    });
    const started = Date.now();
    let complete = false;
    try {
      complete = await untilCaughtUp(processor.source, targets, started, options);
    } finally {
      await processor.stop();
    }
    if (!options.keepGroup) {
      await admin.deleteGroups([groupId]).catch((err: unknown) => {
        logger.warn({ err: errorMessage(err), groupId }, 'could not delete the replay group');
      });
    }
    return { groupId, records: processor.source.recordsRead, durationMs: Date.now() - started, complete };
  } finally {
    await admin.disconnect();
  }
}

type Source = Awaited<ReturnType<typeof startProcessor>>['source'];

async function untilCaughtUp(
  source: Source,
  targets: Map<number, Range>,
  started: number,
  options: ReplayOptions,
): Promise<boolean> {
  const interval = options.progressIntervalMs ?? 1000;
  const idleTimeout = options.idleTimeoutMs ?? 15_000;
  let lastRecords = 0;
  let lastTick = started;
  let lastChange = started;
  let lastRemaining = -1n;
  for (;;) {
    await new Promise((r) => setTimeout(r, Math.min(interval, 200)));
    const durable = new Map(source.tracker.durableOffsets().map((o) => [o.partition, BigInt(o.offset)]));
    let remaining = 0n;
    for (const [partition, { start, end }] of targets) {
      const at = durable.get(partition) ?? start;
      if (at < end) remaining += end - (at > start ? at : start);
    }
    const now = Date.now();
    const done = remaining === 0n;
    if (remaining !== lastRemaining) {
      lastRemaining = remaining;
      lastChange = now;
    }
    const idle = now - lastChange > idleTimeout && source.tracker.openTickets === 0;
    if (done || idle || now - lastTick >= interval) {
      const records = source.recordsRead;
      options.onProgress?.({
        records,
        recordsPerSec: Math.round(((records - lastRecords) * 1000) / Math.max(1, now - lastTick)),
        remaining: Number(remaining),
        elapsedMs: now - started,
        done: done || idle,
      });
      lastRecords = records;
      lastTick = now;
    }
    if (done) return true;
    if (idle) return false;
  }
}

interface Range {
  start: bigint;
  end: bigint;
}

/**
 * Per partition: where the replay starts (log start, or the first offset at/after `from`) and the
 * high watermark it must reach. Partitions with nothing in between need no replay.
 */
async function replayRanges(
  admin: Admin,
  topic: string,
  from: ReplayOptions['from'],
): Promise<Map<number, Range>> {
  const offsets = await admin.fetchTopicOffsets(topic);
  const starts =
    from === 'earliest'
      ? new Map(offsets.map((o) => [o.partition, BigInt(o.low)]))
      : new Map(
          (await admin.fetchTopicOffsetsByTimestamp(topic, from)).map((o) => [o.partition, BigInt(o.offset)]),
        );
  const ranges = new Map<number, Range>();
  for (const o of offsets) {
    const start = starts.get(o.partition) ?? BigInt(o.low);
    const end = BigInt(o.high);
    if (end > start) ranges.set(o.partition, { start, end });
  }
  return ranges;
}

/** Points the fresh group at the first offsets at/after `time` (the end where there are none). */
async function startAt(admin: Admin, groupId: string, topic: string, time: number): Promise<void> {
  const offsets = await admin.fetchTopicOffsetsByTimestamp(topic, time);
  await admin.setOffsets({
    groupId,
    topic,
    partitions: offsets.map((o) => ({ partition: o.partition, offset: o.offset })),
  });
}
