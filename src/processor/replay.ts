import type { Admin, Kafka } from 'kafkajs';
import type { Config } from '../config/config.js';
import { ConfigError } from '../errors.js';
import { createKafka } from '../kafka/client.js';
import { topicPartitionCount } from '../kafka/topic-partitions.js';
import type { LatestStateTable } from '../state/latest-state-table.js';
import { createRedisStateTable } from '../state/redis-state-table.js';
import { checkKafkaAccess } from '../kafka/preflight.js';
import { silentLogger } from '../logger.js';
import { restoreFromChangelog, type RestoreResult } from '../state/restore-from-changelog.js';
import { startProcessor, type ProcessorDeps } from './processor.js';

export interface ReplayOptions {
  /**
   * `earliest`, or an epoch-ms time: replay records appended at or after it. `changelog`: restore
   * the table from its changelog topic, then replay the position topic from the processors'
   * committed offsets (CONSUMER_GROUP) to its end (Kafka Streams' restore).
   */
  from: 'earliest' | 'changelog' | number;
  /** Also re-load the warehouse (idempotent: existing rows are skipped). @default false */
  warehouse?: boolean;
  /** Consumer group of the replay. @default `<CONSUMER_GROUP>-replay-<timestamp>` (always fresh) */
  groupId?: string;
  /**
   * Empty the table first (every key under the prefix: old-layout keys, shards of another
   * partition count) and rebuild it sharded for the topic's partitions. Needs `from: 'earliest'`.
   * Readers see a partial table until it ends. @default false
   */
  rebuild?: boolean;
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
  /** `--from changelog`: what the restore read and applied before the replay. */
  restored?: RestoreResult;
}

/**
 * Rebuilds the latest-state table from the (compacted) topic (with `rebuild`, from an emptied
 * table in the current partition layout; with `from: 'changelog'`, from the table's changelog and
 * then the position topic after the processors' committed offsets): a fresh consumer group reads every
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
  if (!deps.kafka) await checkKafkaAccess(config.kafka);
  const kafka = deps.kafka ?? createKafka(config.kafka, { logger, role: 'replay' });
  const groupId = options.groupId ?? `${config.consumer.groupId}-replay-${Date.now()}`;
  if (options.rebuild && typeof options.from === 'number') {
    throw new ConfigError(
      '--rebuild',
      'a rebuild replays the whole topic: use it with --from earliest or changelog',
    );
  }
  const changelog = config.topic.changelog;
  if (options.from === 'changelog' && changelog === undefined) {
    throw new ConfigError('--from', 'changelog needs the table changelog (STATE_CHANGELOG=true)');
  }
  const ownTable = options.rebuild || options.from === 'changelog';
  const table = ownTable ? (deps.table ?? replayTable(config, kafka, deps)) : deps.table;
  const admin = kafka.admin();
  await admin.connect();
  try {
    if (options.rebuild && table) {
      await table.clear();
      await table.verifyLayout?.();
    }
    let restored: RestoreResult | undefined;
    if (options.from === 'changelog') {
      restored = await restoreFromChangelog(
        kafka,
        { positions: config.topic.name, changelog: changelog! },
        table!,
      );
      logger.info({ event: 'replay.restored', ...restored }, 'table restored from the changelog');
    }
    const targets = await replayRanges(admin, config.topic.name, options.from, config.consumer.groupId);
    if (options.from !== 'earliest') await startAt(admin, groupId, config.topic.name, targets);
    const processor = await startProcessor(config, {
      ...deps,
      ...(table ? { table } : {}),
      logger,
      kafka,
      groupId,
      fromBeginning: true,
      deadLetters: null,
      // A replay of a compacted topic may end at an older state than the table had (a late report
      // written last): logging that would make it the changelog's last word.
      changelog: null,
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
        logger.warn({ err: err, groupId }, 'could not delete the replay group');
      });
    }
    return {
      groupId,
      records: processor.source.recordsRead,
      durationMs: Date.now() - started,
      complete,
      ...(restored ? { restored } : {}),
    };
  } finally {
    await admin.disconnect();
    if (table && table !== deps.table) await table.close();
  }
}

function replayTable(config: Readonly<Config>, kafka: Kafka, deps: ProcessorDeps): LatestStateTable {
  return createRedisStateTable({
    ...config.redis,
    partitions: topicPartitionCount(kafka, config.topic.name),
    ...(deps.logger ? { logger: deps.logger } : {}),
    ...(deps.registry ? { registry: deps.registry } : {}),
  });
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
 * Per partition: where the replay starts (log start; the first offset at/after `from`; or, after a
 * restore from the changelog, the processors' committed offset) and the high watermark it must
 * reach. Partitions with nothing in between need no replay.
 */
async function replayRanges(
  admin: Admin,
  topic: string,
  from: ReplayOptions['from'],
  processorGroup: string,
): Promise<Map<number, Range>> {
  const offsets = await admin.fetchTopicOffsets(topic);
  const starts = new Map<number, bigint>();
  if (from === 'changelog') {
    const [committed] = await admin.fetchOffsets({ groupId: processorGroup, topics: [topic] });
    // -1: the group committed nothing there; everything from the log start is still to come.
    for (const p of committed?.partitions ?? [])
      if (p.offset !== '-1') starts.set(p.partition, BigInt(p.offset));
  } else if (from !== 'earliest') {
    const high = new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
    // -1: no record at or after the time: nothing to replay there.
    for (const o of await admin.fetchTopicOffsetsByTimestamp(topic, from))
      starts.set(o.partition, o.offset === '-1' ? high.get(o.partition)! : BigInt(o.offset));
  }
  const ranges = new Map<number, Range>();
  for (const o of offsets) {
    const low = BigInt(o.low);
    const at = starts.get(o.partition) ?? low;
    const start = at > low ? at : low;
    const end = BigInt(o.high);
    if (end > start) ranges.set(o.partition, { start, end });
  }
  return ranges;
}

/** Points the fresh group at the start of each range (the end where there is nothing to replay). */
async function startAt(
  admin: Admin,
  groupId: string,
  topic: string,
  ranges: Map<number, Range>,
): Promise<void> {
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.setOffsets({
    groupId,
    topic,
    partitions: offsets.map((o) => ({
      partition: o.partition,
      offset: String(ranges.get(o.partition)?.start ?? BigInt(o.high)),
    })),
  });
}
