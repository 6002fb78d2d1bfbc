import type { Ack } from './batch.js';

/** One Kafka record as the source hands it on (structurally a kafkajs `KafkaMessage`). */
export interface RawRecord {
  key: Buffer | null;
  value: Buffer | null;
  /** Record timestamp, epoch ms as a decimal string. */
  timestamp: string;
  /** int64 offset as a decimal string. */
  offset: string;
  headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
}

/**
 * A contiguous run of records of one partition (at most MAX_POLL_RECORDS), the unit the source
 * emits. `ack` completes when every sink holds every record of the chunk.
 */
export interface SourceChunk {
  readonly topic: string;
  /** The topic's id (its UUID in Kafka's text form), as the source learnt it on assignment. */
  readonly topicId: string;
  readonly partition: number;
  readonly records: readonly RawRecord[];
  /** Key + value bytes of all records. */
  readonly bytes: number;
  readonly ack: Ack;
}
