import type { RecordCoordinates } from '../errors.js';
import type { Position } from './position.js';

/** A decoded, valid position together with where it sits in Kafka. The unit every sink writes. */
export interface PositionRecord extends RecordCoordinates {
  /**
   * The topic's id (Kafka's UUID of this incarnation of the topic, in Kafka's text form): a topic
   * deleted and re-created under the same name restarts its offsets, so (topic, partition, offset)
   * alone does not name a record across re-creations.
   */
  topicId: string;
  position: Position;
  /** Kafka record timestamp (append/create time), epoch ms. */
  kafkaTs: number;
  /** Encoded size in bytes, for byte-bounded batches and backpressure. */
  bytes: number;
}

/** A record that failed decoding or validation, on its way to the DLQ. */
export interface DeadLetter extends RecordCoordinates {
  key: Buffer | null;
  value: Buffer | null;
  reason: string;
  /** Error class name: DecodeError, ValidationError, ... */
  errorType: string;
  headers?: Record<string, string>;
}

/** Compares Kafka offsets (decimal strings) numerically. */
export function compareOffsets(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}
