import type { Kafka, Message } from 'kafkajs';
import { errorMessage } from '../src/errors.js';
import { DLQ_HEADERS } from '../src/sinks/dead-letter-sink.js';
import type { DeadLetterEntry } from './checker.js';
import { partitionFor } from './cluster.js';
import type { HostileRecord } from './hostile-corpus.js';
import { readToEnd } from './topic.js';

/** Where a raw record was written, or why the broker refused it. */
export interface Written {
  record: HostileRecord;
  partition: number;
  /** Empty when the broker rejected the record (see `rejected`). */
  offset: string;
  /** The broker's refusal (a keyless record on a compacted topic: INVALID_RECORD). */
  rejected?: string;
}

/** Roughly what a record weighs in a produce request. */
const weight = (r: HostileRecord) => (r.key?.length ?? 0) + (r.value?.length ?? 0) + 64;

/**
 * Writes records as they are (no validation: this is the attacker's producer), acks=all, and
 * returns each record's partition and offset. Partitions follow the key like any Kafka client
 * (murmur2); keyless records are spread round-robin. Within one send, a partition's records get
 * consecutive offsets from the batch's base offset (idempotent producer: no duplicates).
 * Keyless records go alone, as the broker may refuse them (compacted topics need keys).
 */
export async function writeRaw(
  kafka: Kafka,
  topic: string,
  partitions: number,
  records: readonly HostileRecord[],
): Promise<Written[]> {
  const partitionOf = partitionFor(topic, partitions);
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
  });
  await producer.connect();
  const out: Written[] = [];
  try {
    let batch: { record: HostileRecord; partition: number }[] = [];
    let bytes = 0;
    const flush = async () => {
      if (batch.length === 0) return;
      const messages: Message[] = batch.map(({ record, partition }) => ({
        key: record.key,
        value: record.value,
        partition,
        ...(record.headers ? { headers: record.headers } : {}),
      }));
      const result = await producer.send({ topic, acks: -1, messages });
      const next = new Map(result.map((m) => [m.partition, BigInt(m.baseOffset ?? '0')]));
      for (const { record, partition } of batch) {
        const offset = next.get(partition)!;
        next.set(partition, offset + 1n);
        out.push({ record, partition, offset: offset.toString() });
      }
      batch = [];
      bytes = 0;
    };
    let spread = 0;
    for (const record of records) {
      const partition = record.key === null ? spread++ % partitions : partitionOf(record.key);
      if (record.key === null) {
        await flush();
        try {
          batch.push({ record, partition });
          await flush();
        } catch (err) {
          batch = [];
          out.push({ record, partition, offset: '', rejected: errorMessage(err) });
        }
        continue;
      }
      // The broker takes at most message.max.bytes per partition batch: big records go alone.
      if (bytes + weight(record) > 512 * 1024 || batch.length >= 500) await flush();
      batch.push({ record, partition });
      bytes += weight(record);
    }
    await flush();
  } finally {
    await producer.disconnect();
  }
  return out;
}

/** Every dead letter on the DLQ topic up to its end offsets now, with where it came from and why. */
export async function readDeadLetters(
  kafka: Kafka,
  dlqTopic: string,
  sourceTopic: string,
): Promise<DeadLetterEntry[]> {
  const out: DeadLetterEntry[] = [];
  await readToEnd(kafka, dlqTopic, (_partition, message) => {
    const h = (name: string) => message.headers?.[name]?.toString() ?? '';
    if (h(DLQ_HEADERS.sourceTopic) !== sourceTopic) return;
    out.push({
      partition: Number(h(DLQ_HEADERS.sourcePartition)),
      offset: h(DLQ_HEADERS.sourceOffset),
      reason: h(DLQ_HEADERS.reason),
    });
  });
  return out;
}
