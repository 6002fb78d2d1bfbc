import type { Kafka, KafkaMessage } from 'kafkajs';
import { ConfigError } from '../errors.js';
import { readTopicToEnd } from '../kafka/read-topic-to-end.js';
import { DLQ_HEADERS } from './dead-letter-sink.js';

/** Where a dead letter came from: the coordinates of the original record. */
export interface SourceRef {
  topic?: string;
  partition: number;
  offset: string;
}

/** One dead letter as read back from the DLQ topic. */
export interface StoredDeadLetter {
  source: { topic: string; partition: number; offset: string };
  reason: string;
  errorType: string;
  failedAt: string | null;
  key: Buffer | null;
  value: Buffer | null;
  /** The original record's headers (`x-original-<name>` without the prefix). */
  headers: Record<string, Buffer>;
  /** The key, value or headers were cut to fit: the stored bytes are not the original record. */
  truncated: boolean;
  /** Where the first copy is in the DLQ. */
  dlq: { partition: number; offset: string };
  /** How many times this source record is in the DLQ (more than 1 after a processor crash). */
  copies: number;
}

/**
 * The DLQ is at-least-once: a processor that crashes after writing a dead letter but before
 * committing the source offset dead-letters the same record again when it restarts. Every reader
 * goes through this index, which keeps the first copy per source coordinates and counts the rest.
 */
export class DeadLetterIndex {
  private readonly bySource = new Map<string, StoredDeadLetter>();
  /** DLQ records without the x-dlq source headers (not written by our sink). */
  unreadable = 0;
  /** DLQ records read in all, duplicates included. */
  records = 0;

  /** Adds a DLQ record; returns the letter when it is the first copy of its source record. */
  add(partition: number, message: KafkaMessage): StoredDeadLetter | undefined {
    this.records++;
    const letter = parseDeadLetter(partition, message);
    if (!letter) {
      this.unreadable++;
      return undefined;
    }
    const id = sourceId(letter.source);
    const seen = this.bySource.get(id);
    if (seen) {
      seen.copies++;
      return undefined;
    }
    this.bySource.set(id, letter);
    return letter;
  }

  /** Unique dead letters in the order they were first dead-lettered. */
  letters(): StoredDeadLetter[] {
    return [...this.bySource.values()];
  }

  find(ref: SourceRef): StoredDeadLetter[] {
    return this.letters().filter((l) => matches(l, ref));
  }
}

export function sourceId(s: { topic: string; partition: number; offset: string }): string {
  return `${s.topic}:${s.partition}:${s.offset}`;
}

export function matches(letter: StoredDeadLetter, ref: SourceRef): boolean {
  return (
    letter.source.partition === ref.partition &&
    letter.source.offset === ref.offset &&
    (ref.topic === undefined || letter.source.topic === ref.topic)
  );
}

/** `<partition>:<offset>` or `<topic>:<partition>:<offset>` (topic names cannot contain ':'). */
export function parseSourceRef(text: string, flag = 'source'): SourceRef {
  const match = /^(?:([A-Za-z0-9._-]+):)?(\d+):(\d+)$/.exec(text.trim());
  if (!match)
    throw new ConfigError(flag, `'${text}' is not <partition>:<offset> or <topic>:<partition>:<offset>`);
  const offset = BigInt(match[3]!).toString();
  return { ...(match[1] ? { topic: match[1] } : {}), partition: Number(match[2]), offset };
}

export function parseDeadLetter(partition: number, message: KafkaMessage): StoredDeadLetter | undefined {
  const h = message.headers ?? {};
  const text = (name: string): string | undefined => {
    const v = h[name];
    const one = Array.isArray(v) ? v[0] : v;
    return one === undefined ? undefined : one.toString();
  };
  const topic = text(DLQ_HEADERS.sourceTopic);
  const sourcePartition = text(DLQ_HEADERS.sourcePartition);
  const sourceOffset = text(DLQ_HEADERS.sourceOffset);
  if (topic === undefined || !/^\d+$/.test(sourcePartition ?? '') || !/^\d+$/.test(sourceOffset ?? ''))
    return undefined;
  const headers: Record<string, Buffer> = {};
  for (const [name, v] of Object.entries(h)) {
    const one = Array.isArray(v) ? v[0] : v;
    if (name.startsWith(DLQ_HEADERS.originalPrefix) && one !== undefined)
      headers[name.slice(DLQ_HEADERS.originalPrefix.length)] = Buffer.from(one);
  }
  return {
    source: { topic, partition: Number(sourcePartition), offset: sourceOffset! },
    reason: text(DLQ_HEADERS.reason) ?? '',
    errorType: text(DLQ_HEADERS.errorType) ?? '',
    failedAt: text(DLQ_HEADERS.failedAt) ?? null,
    key: message.key ?? null,
    value: message.value ?? null,
    headers,
    truncated:
      text(DLQ_HEADERS.keyTruncated) !== undefined ||
      text(DLQ_HEADERS.valueTruncated) === 'true' ||
      text(DLQ_HEADERS.headersTruncated) === 'true',
    dlq: { partition, offset: message.offset },
    copies: 1,
  };
}

/** Reads the whole DLQ topic (up to its end offsets at the start), deduplicated by source record. */
export async function readDeadLetters(
  kafka: Kafka,
  dlqTopic: string,
  options: { timeoutMs?: number } = {},
): Promise<DeadLetterIndex> {
  const index = new DeadLetterIndex();
  await readTopicToEnd(kafka, dlqTopic, (p, m) => index.add(p, m), options);
  return index;
}

/**
 * Reads the DLQ to its end (`onCaughtUp` gets the index), then calls `onNew` for every new unique
 * dead letter until `signal` aborts.
 */
export async function followDeadLetters(
  kafka: Kafka,
  dlqTopic: string,
  handlers: { onCaughtUp: (index: DeadLetterIndex) => void; onNew: (letter: StoredDeadLetter) => void },
  signal: AbortSignal,
): Promise<void> {
  const index = new DeadLetterIndex();
  let live = false;
  await readTopicToEnd(
    kafka,
    dlqTopic,
    (p, m) => {
      const letter = index.add(p, m);
      if (live && letter) handlers.onNew(letter);
    },
    {
      follow: signal,
      onCaughtUp: () => {
        live = true;
        handlers.onCaughtUp(index);
      },
    },
  );
}

export interface DeadLetterCounts {
  /** Unique dead letters (by source coordinates). */
  total: number;
  /** DLQ records that repeat an earlier dead letter of the same source record. */
  duplicates: number;
  unreadable: number;
  byReason: Record<string, number>;
  byErrorType: Record<string, number>;
}

export function countDeadLetters(index: DeadLetterIndex): DeadLetterCounts {
  const letters = index.letters();
  const tally = (key: (l: StoredDeadLetter) => string) => {
    const out: Record<string, number> = {};
    for (const l of letters) out[key(l)] = (out[key(l)] ?? 0) + 1;
    return out;
  };
  return {
    total: letters.length,
    duplicates: index.records - index.unreadable - letters.length,
    unreadable: index.unreadable,
    byReason: tally((l) => l.reason),
    byErrorType: tally((l) => l.errorType),
  };
}

/** A value for people and JSON: the text when it is valid UTF-8, else base64. */
export function printableBytes(bytes: Buffer | null): { encoding: 'utf8' | 'base64'; text: string } | null {
  if (bytes === null) return null;
  try {
    return { encoding: 'utf8', text: new TextDecoder('utf-8', { fatal: true }).decode(bytes) };
  } catch {
    return { encoding: 'base64', text: bytes.toString('base64') };
  }
}
