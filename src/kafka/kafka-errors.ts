/**
 * The one Kafka error classifier, used by every Kafka writer (the position publisher, the
 * dead-letter sink), for both clients. kafkajs wraps errors (a retry that gave up wraps the last
 * broker answer) and `@platformatic/kafka` aggregates them (a give-up holds every attempt's error),
 * so the whole `cause` / `originalError` / `errors` tree is read.
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
  /** kafkajs: the protocol error name. */
  type?: unknown;
  /** kafkajs: its verdict. */
  retriable?: unknown;
  /** @platformatic/kafka: the protocol error name, its verdict, its error kind (`PLT_KFK_*`). */
  apiId?: unknown;
  canRetry?: unknown;
  code?: unknown;
  cause?: unknown;
  originalError?: unknown;
  errors?: unknown;
}

/** @platformatic/kafka's connection errors (a timeout says canRetry: false, yet the cluster may come back). */
const UNREACHABLE_CODES = new Set(['PLT_KFK_NETWORK', 'PLT_KFK_TIMEOUT']);

/** An error and what it wraps or aggregates, breadth first (at most 16). */
function chain(err: unknown): ErrorLike[] {
  const links: ErrorLike[] = [];
  const queue: unknown[] = [err];
  while (queue.length > 0 && links.length < 16) {
    const e = queue.shift();
    if (!e || typeof e !== 'object') continue;
    const link = e as ErrorLike;
    links.push(link);
    queue.push(link.cause ?? link.originalError);
    if (Array.isArray(link.errors)) queue.push(...(link.errors as unknown[]));
  }
  return links;
}

const protocolName = (link: ErrorLike): string | undefined =>
  typeof link.type === 'string' ? link.type : typeof link.apiId === 'string' ? link.apiId : undefined;

/** The outermost protocol error name in the chain (e.g. `NOT_LEADER_FOR_PARTITION`). */
export function kafkaErrorType(err: unknown): string | undefined {
  for (const link of chain(err)) {
    const name = protocolName(link);
    if (name !== undefined) return name;
  }
  return undefined;
}

export function classifyKafkaError(err: unknown): KafkaErrorClass {
  const links = chain(err);
  const type = kafkaErrorType(err);
  if (type !== undefined) {
    if (FATAL_TYPES.has(type)) return 'fatal';
    if (RESET_TYPES.has(type)) return 'reset';
    // Other broker answers carry the client's own verdict for their code.
    const protocol = links.find((l) => protocolName(l) === type)!;
    return protocol.retriable === false || protocol.canRetry === false ? 'fatal' : 'retriable';
  }
  // A wrapper that gave up (KafkaJSNumberOfRetriesExceeded, a MultipleErrors) is retriable when
  // what it wraps is.
  const retriable = (l: ErrorLike) =>
    l.retriable === true ||
    l.canRetry === true ||
    (typeof l.code === 'string' && UNREACHABLE_CODES.has(l.code));
  return links.some(retriable) ? 'retriable' : 'fatal';
}

export function isRetriableKafkaError(err: unknown): boolean {
  return classifyKafkaError(err) !== 'fatal';
}
