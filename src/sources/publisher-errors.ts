import { errorMessage, KafkaUnavailableError } from '../errors.js';

/** Broker answers that no retry can fix: the batch fails at once. */
const FATAL = new Set([
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
  'CORRUPT_MESSAGE',
  'INVALID_REQUIRED_ACKS',
  'TOPIC_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'UNSUPPORTED_FOR_MESSAGE_FORMAT',
  'POLICY_VIOLATION',
]);

/** Answers about the producer's identity or sequence: retry with a new producer id. */
const RESET = new Set([
  'OUT_OF_ORDER_SEQUENCE_NUMBER',
  'UNKNOWN_PRODUCER_ID',
  'INVALID_PRODUCER_EPOCH',
  'INVALID_PRODUCER_ID_MAPPING',
]);

interface KafkaJsLike {
  type?: unknown;
  cause?: unknown;
  originalError?: unknown;
}

/** The innermost kafkajs protocol error type (kafkajs wraps errors in retry errors). */
export function kafkaErrorType(err: unknown): string | undefined {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 8; depth++) {
    const { type, cause, originalError } = e as KafkaJsLike;
    if (typeof type === 'string') return type;
    e = cause ?? originalError;
  }
  return undefined;
}

export function classifySendError(err: unknown): 'fatal' | 'reset' | 'retry' {
  const type = kafkaErrorType(err);
  if (type && FATAL.has(type)) return 'fatal';
  if (type && RESET.has(type)) return 'reset';
  return 'retry';
}

/** A KafkaUnavailableError saying what could not be reached, and the fix when there is one. */
export function connectError(topic: string, err: unknown): KafkaUnavailableError {
  if (err instanceof KafkaUnavailableError) return err;
  if (kafkaErrorType(err) === 'UNKNOWN_TOPIC_OR_PARTITION') {
    return new KafkaUnavailableError(`topic '${topic}' does not exist (create it: fleet topics create)`, {
      cause: err,
    });
  }
  return new KafkaUnavailableError(`cannot publish to Kafka topic '${topic}': ${errorMessage(err)}`, {
    cause: err,
  });
}
