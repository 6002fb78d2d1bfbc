import { Partitioners, type IHeaders, type Kafka, type Message, type Producer } from 'kafkajs';
import type { Registry } from 'prom-client';
import type { DeadLetter } from '../domain/records.js';
import { errorMessage, KafkaUnavailableError, SinkError } from '../errors.js';
import { isRetriableKafkaError } from '../kafka/kafka-errors.js';
import { LogEvents, silentLogger, type Logger } from '../logger.js';
import { counter, defaultRegistry } from '../metrics.js';

/**
 * Where records that cannot be processed (undecodable, invalid) go, so the processor never stops
 * on bad data. Resolves once every letter is durable (acks=all); rejects with a {@link SinkError}.
 */
export interface DeadLetterSink {
  write(letters: readonly DeadLetter[]): Promise<void>;
  close(): Promise<void>;
}

/** Headers added to every dead letter (original headers are kept as `x-original-<name>`). */
export const DLQ_HEADERS = {
  reason: 'x-dlq-reason',
  errorType: 'x-dlq-error-type',
  sourceTopic: 'x-dlq-source-topic',
  sourcePartition: 'x-dlq-source-partition',
  sourceOffset: 'x-dlq-source-offset',
  failedAt: 'x-dlq-failed-at',
  /** Set when the key was too large to be a key: its first `maxKeyBytes` bytes. */
  keyTruncated: 'x-dlq-key-truncated',
  keyBytes: 'x-dlq-original-key-bytes',
  /** 'true' when the value was cut to fit the broker's size limit. */
  valueTruncated: 'x-dlq-value-truncated',
  valueBytes: 'x-dlq-original-value-bytes',
  /** 'true' when original headers were cut or dropped. */
  headersTruncated: 'x-dlq-headers-truncated',
  originalPrefix: 'x-original-',
} as const;

export interface KafkaDeadLetterSinkOptions {
  /** A connected producer (idempotent, acks=-1); the sink never disconnects it. Or pass `kafka`. */
  producer?: Producer;
  /** Client to create (lazily) an idempotent producer from; disconnected by `close()`. */
  kafka?: Kafka;
  /** The DLQ topic, e.g. `vehicle_positions.dlq`. */
  topic: string;
  logger?: Logger;
  /** @default defaultRegistry */
  registry?: Registry;
  /**
   * Largest record batch the DLQ accepts (broker `message.max.bytes` / topic `max.message.bytes`);
   * larger values are truncated, and one write is split into sends that each fit.
   * @default 1_000_000 (below Kafka's default limit, so it fits any broker)
   */
  maxMessageBytes?: number;
  /** Longer keys are replaced by null and kept (cut to this size) in a header. @default 1024 */
  maxKeyBytes?: number;
  /** Give up waiting for one send after this long; the caller retries. @default 30_000 (ms) */
  sendTimeoutMs?: number;
  /** Clock for `x-dlq-failed-at`. @default () => new Date() */
  now?: () => Date;
}

const MAX_REASON_CHARS = 4096;
const MAX_HEADER_BYTES = 4096;
const MAX_ORIGINAL_HEADERS_BYTES = 32 * 1024;
/** Record and batch framing, generously: the limit applies to the whole batch. */
const RECORD_OVERHEAD = 512;

/** A dead letter as the DLQ record, made to fit `maxMessageBytes`. */
export function toDlqMessage(
  letter: DeadLetter,
  limits: { maxMessageBytes: number; maxKeyBytes: number },
  failedAt: Date,
): Message & { size: number } {
  const headers: Record<string, string | Buffer> = {
    [DLQ_HEADERS.reason]: cut(letter.reason, MAX_REASON_CHARS),
    [DLQ_HEADERS.errorType]: letter.errorType,
    [DLQ_HEADERS.sourceTopic]: letter.topic,
    [DLQ_HEADERS.sourcePartition]: String(letter.partition),
    [DLQ_HEADERS.sourceOffset]: letter.offset,
    [DLQ_HEADERS.failedAt]: failedAt.toISOString(),
  };
  let key = letter.key;
  if (key !== null && key.length > limits.maxKeyBytes) {
    headers[DLQ_HEADERS.keyTruncated] = key.subarray(0, limits.maxKeyBytes);
    headers[DLQ_HEADERS.keyBytes] = String(key.length);
    key = null;
  }
  let originalBytes = 0;
  for (const [name, value] of Object.entries(letter.headers ?? {})) {
    const kept = cut(value, MAX_HEADER_BYTES);
    originalBytes += name.length + Buffer.byteLength(kept);
    if (kept !== value || originalBytes > MAX_ORIGINAL_HEADERS_BYTES) {
      headers[DLQ_HEADERS.headersTruncated] = 'true';
      if (originalBytes > MAX_ORIGINAL_HEADERS_BYTES) break;
    }
    headers[`${DLQ_HEADERS.originalPrefix}${name}`] = kept;
  }
  let value = letter.value;
  const budget = limits.maxMessageBytes - RECORD_OVERHEAD - (key?.length ?? 0) - headersSize(headers) - 64;
  if (value !== null && value.length > budget) {
    headers[DLQ_HEADERS.valueTruncated] = 'true';
    headers[DLQ_HEADERS.valueBytes] = String(value.length);
    value = value.subarray(0, Math.max(0, budget));
  }
  const size = RECORD_OVERHEAD + (key?.length ?? 0) + (value?.length ?? 0) + headersSize(headers);
  return { key, value, headers: headers as IHeaders, size };
}

/** The Kafka DLQ adapter. */
export function createKafkaDeadLetterSink(options: KafkaDeadLetterSinkOptions): DeadLetterSink {
  const { topic } = options;
  const logger = (options.logger ?? silentLogger).child({ component: 'dead-letter-sink', topic });
  const limits = {
    maxMessageBytes: options.maxMessageBytes ?? 1_000_000,
    maxKeyBytes: options.maxKeyBytes ?? 1024,
  };
  const sendTimeoutMs = options.sendTimeoutMs ?? 30_000;
  const now = options.now ?? (() => new Date());
  const registry = options.registry ?? defaultRegistry;
  const deadLetters = counter(registry, {
    name: 'fleet_dead_letters_total',
    help: 'Records sent to the dead-letter topic, by error type.',
    labelNames: ['error_type'],
  });
  if (!options.producer && !options.kafka)
    throw new Error('createKafkaDeadLetterSink needs a producer or kafka');
  let owned: Promise<Producer> | undefined;
  const producer = (): Promise<Producer> => {
    if (options.producer) return Promise.resolve(options.producer);
    if (owned === undefined) {
      const created = options.kafka!.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      owned = created.connect().then(() => created);
      owned.catch(() => (owned = undefined));
    }
    return owned;
  };

  return {
    async write(letters) {
      if (letters.length === 0) return;
      const failedAt = now();
      const messages = letters.map((l) => toDlqMessage(l, limits, failedAt));
      try {
        const p = await producer();
        // The size limit applies to a whole record batch, i.e. to one send to one partition.
        for (const group of groupBySize(messages, limits.maxMessageBytes)) {
          const send = p.send({ topic, acks: -1, messages: group.map(({ size: _, ...m }) => m) });
          await withTimeout(send, sendTimeoutMs);
        }
      } catch (err) {
        throw new SinkError(
          'dead-letter',
          `cannot write ${letters.length} letters to ${topic}: ${errorMessage(err)}`,
          {
            retriable: isRetriableKafkaError(err),
            cause: err,
          },
        );
      }
      const byType = new Map<string, number>();
      for (const l of letters) byType.set(l.errorType, (byType.get(l.errorType) ?? 0) + 1);
      for (const [errorType, n] of byType) deadLetters.inc({ error_type: errorType }, n);
      const first = letters[0]!;
      logger.warn(
        {
          event: LogEvents.deadLetter,
          count: letters.length,
          errorTypes: Object.fromEntries(byType),
          first: {
            topic: first.topic,
            partition: first.partition,
            offset: first.offset,
            reason: cut(first.reason, 200),
          },
        },
        'records dead-lettered',
      );
    },
    async close() {
      const pending = owned;
      owned = undefined;
      if (pending) await (await pending.catch(() => undefined))?.disconnect();
    },
  };
}

function groupBySize<T extends { size: number }>(items: readonly T[], maxBytes: number): T[][] {
  const groups: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    if (current.length > 0 && bytes + item.size > maxBytes) {
      groups.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += item.size;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

function headersSize(headers: Record<string, string | Buffer>): number {
  let n = 0;
  for (const [k, v] of Object.entries(headers))
    n += k.length + (typeof v === 'string' ? Buffer.byteLength(v) : v.length) + 8;
  return n;
}

/** Cuts a string to at most `maxBytes` UTF-8 bytes (never splitting a character). */
function cut(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  return (
    Buffer.from(text)
      .subarray(0, maxBytes - 3)
      .toString('utf8')
      .replace(/\uFFFD$/, '') + '…'
  );
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new KafkaUnavailableError(`no acknowledgement within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
