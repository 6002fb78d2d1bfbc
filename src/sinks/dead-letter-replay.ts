import { Partitioners, type Kafka, type Message, type Producer } from 'kafkajs';
import { ensureTopic, type TopicPlan } from '../kafka/topic-admin.js';
import { readTopicToEnd } from '../kafka/read-topic-to-end.js';
import {
  readDeadLetters,
  matches,
  sourceId,
  type SourceRef,
  type StoredDeadLetter,
} from './dead-letter-reader.js';

/** Headers a replayed record carries (its `x-dlq-*` headers are dropped, `x-original-*` restored). */
export const REPLAY_HEADERS = {
  /** `<topic>:<partition>:<offset>` of the original record that was dead-lettered. */
  source: 'x-replay-of',
  replayedAt: 'x-replayed-at',
} as const;

export interface DeadLetterSelection {
  /** Letters whose reason contains one of these texts. */
  reasons?: readonly string[];
  /** Letters with one of these error types (exact). */
  errorTypes?: readonly string[];
  /** Letters of these source records. */
  sources?: readonly SourceRef[];
}

export interface ReplayOptions {
  dlqTopic: string;
  /** Where replayed records go: the position topic. */
  targetTopic: string;
  /** Compacted topic of replay markers. @default `<dlqTopic>.replayed` */
  markerTopic?: string;
  selection: DeadLetterSelection;
  dryRun?: boolean;
  /** For creating the marker topic. */
  replicationFactor?: number;
  now?: () => Date;
}

export interface ReplayResult {
  /** Unique dead letters the selection matched. */
  selected: number;
  /** Replayed by this run (or, with dryRun, that would be). */
  replayed: StoredDeadLetter[];
  /** Matched but replayed by an earlier run. */
  alreadyReplayed: StoredDeadLetter[];
  /** Matched but cut to fit the DLQ: the stored bytes are not the original record. */
  truncated: StoredDeadLetter[];
}

const CHUNK = 500;

export function selectDeadLetters(
  letters: readonly StoredDeadLetter[],
  selection: DeadLetterSelection,
): StoredDeadLetter[] {
  const { reasons, errorTypes, sources } = selection;
  return letters.filter(
    (l) =>
      (!reasons?.length || reasons.some((r) => l.reason.includes(r))) &&
      (!errorTypes?.length || errorTypes.includes(l.errorType)) &&
      (!sources?.length || sources.some((s) => matches(l, s))),
  );
}

export function markerTopicPlan(markerTopic: string, replicationFactor: number): TopicPlan {
  return {
    name: markerTopic,
    partitions: 1,
    replicationFactor,
    configs: {
      'cleanup.policy': 'compact',
      'min.insync.replicas': String(Math.max(1, replicationFactor - 1)),
    },
  };
}

/**
 * Re-drives selected dead letters onto the position topic, idempotently.
 *
 * Idempotence: every replayed source record gets a marker in a compacted topic keyed by its source
 * coordinates (`<dlq>.replayed`; compaction keeps one marker per key forever), and a run skips
 * letters that already have one. We chose a marker topic over searching the position topic for a
 * record carrying the same `x-replay-of` header because that topic is compacted by vehicle and
 * deleted after 24 h: the evidence of an earlier replay would vanish and a later run would replay
 * again. Markers are written after the broker acknowledged the replayed records (acks=all), so a
 * crash between the two can replay that chunk (at most 500 records) once more on the next run: a
 * narrow window we accept over Kafka transactions, whose commit markers take offsets and would break
 * readers of the position topic that wait for the high watermark (`fleet replay`). Two replays
 * at the same moment are not coordinated: run one at a time.
 */
export async function replayDeadLetters(kafka: Kafka, options: ReplayOptions): Promise<ReplayResult> {
  const markerTopic = options.markerTopic ?? `${options.dlqTopic}.replayed`;
  const now = options.now ?? (() => new Date());
  const index = await readDeadLetters(kafka, options.dlqTopic);
  const selected = selectDeadLetters(index.letters(), options.selection);
  const done = await readMarkers(kafka, markerTopic, options);
  const result: ReplayResult = {
    selected: selected.length,
    replayed: [],
    alreadyReplayed: [],
    truncated: [],
  };
  for (const l of selected) {
    if (done.has(sourceId(l.source))) result.alreadyReplayed.push(l);
    else if (l.truncated) result.truncated.push(l);
    else result.replayed.push(l);
  }
  if (options.dryRun || result.replayed.length === 0) return result;

  const producer: Producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  try {
    for (let i = 0; i < result.replayed.length; i += CHUNK) {
      const chunk = result.replayed.slice(i, i + CHUNK);
      const at = now().toISOString();
      await producer.send({
        topic: options.targetTopic,
        acks: -1,
        messages: chunk.map((l) => replayMessage(l, at)),
      });
      await producer.send({
        topic: markerTopic,
        acks: -1,
        messages: chunk.map((l) => ({
          key: sourceId(l.source),
          value: JSON.stringify({ replayedAt: at, target: options.targetTopic, dlq: l.dlq }),
        })),
      });
    }
  } finally {
    await producer.disconnect();
  }
  return result;
}

/** The original record again: original key, value and headers, plus where it was replayed from. */
export function replayMessage(letter: StoredDeadLetter, replayedAt: string): Message {
  return {
    key: letter.key,
    value: letter.value,
    headers: {
      ...letter.headers,
      [REPLAY_HEADERS.source]: sourceId(letter.source),
      [REPLAY_HEADERS.replayedAt]: replayedAt,
    },
  };
}

async function readMarkers(kafka: Kafka, markerTopic: string, options: ReplayOptions): Promise<Set<string>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const exists = (await admin.listTopics()).includes(markerTopic);
    if (!exists) {
      if (options.dryRun) return new Set();
      const brokers = (await admin.describeCluster()).brokers.length;
      await ensureTopic(
        admin,
        markerTopicPlan(markerTopic, options.replicationFactor ?? Math.min(2, brokers)),
      );
    }
  } finally {
    await admin.disconnect();
  }
  const done = new Set<string>();
  await readTopicToEnd(kafka, markerTopic, (_, m) => {
    if (m.key && m.value) done.add(m.key.toString());
  });
  return done;
}
