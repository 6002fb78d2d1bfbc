/**
 * The one Kafka error classifier, used by every Kafka writer (the position publisher, the
 * dead-letter sink). kafkajs wraps errors (a retry that gave up wraps the last broker answer), so
 * the whole `cause` / `originalError` chain is read.
 */

/** Broker answers that no retry can fix: fail at once. */
const FATAL_TYPES = new Set([
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

/** Answers about an idempotent producer's identity or sequence: retry with a new producer id. */
const RESET_TYPES = new Set([
  'OUT_OF_ORDER_SEQUENCE_NUMBER',
  'UNKNOWN_PRODUCER_ID',
  'INVALID_PRODUCER_EPOCH',
  'INVALID_PRODUCER_ID_MAPPING',
]);

/**
 * - `fatal`: retrying cannot help (a broker refusal such as MESSAGE_TOO_LARGE or an authorization
 *   failure, a non-retriable protocol error, or an error that says nothing about retrying: a bug);
 * - `reset`: retry, but with a new producer id;
 * - `retriable`: the cluster is (partly) unreachable or busy; the same write may succeed later.
 */
export type KafkaErrorClass = 'fatal' | 'reset' | 'retriable';

interface ErrorLike {
  type?: unknown;
  retriable?: unknown;
  cause?: unknown;
  originalError?: unknown;
}

/** The chain of an error and what it wraps (at most 8 deep). */
function chain(err: unknown): ErrorLike[] {
  const links: ErrorLike[] = [];
  for (let e = err; e && typeof e === 'object' && links.length < 8;) {
    const link = e as ErrorLike;
    links.push(link);
    e = link.cause ?? link.originalError;
  }
  return links;
}

/** The outermost kafkajs protocol error type in the chain (e.g. `NOT_LEADER_FOR_PARTITION`). */
export function kafkaErrorType(err: unknown): string | undefined {
  for (const link of chain(err)) if (typeof link.type === 'string') return link.type;
  return undefined;
}

export function classifyKafkaError(err: unknown): KafkaErrorClass {
  const links = chain(err);
  const type = kafkaErrorType(err);
  if (type !== undefined) {
    if (FATAL_TYPES.has(type)) return 'fatal';
    if (RESET_TYPES.has(type)) return 'reset';
    // Other broker answers carry kafkajs' own verdict for their code.
    const protocol = links.find((l) => l.type === type)!;
    return protocol.retriable === false ? 'fatal' : 'retriable';
  }
  // A wrapper that gave up (KafkaJSNumberOfRetriesExceeded) is retriable when what it wraps is.
  return links.some((l) => l.retriable === true) ? 'retriable' : 'fatal';
}

export function isRetriableKafkaError(err: unknown): boolean {
  return classifyKafkaError(err) !== 'fatal';
}
