import {
  KafkaJSConnectionError,
  KafkaJSError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSRequestTimeoutError,
  KafkaJSSASLAuthenticationError,
} from 'kafkajs';
import {
  MultipleErrors,
  NetworkError,
  ProtocolError as PlatformaticProtocolError,
  TimeoutError,
  UserError,
} from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { KafkaUnavailableError } from '../../src/errors.js';
import { classifyKafkaError, kafkaErrorType } from '../../src/kafka/kafka-errors.js';

/** A broker answer as kafkajs builds it (its error-code table gives type and retriable). */
const broker = (type: string, retriable: boolean) =>
  new KafkaJSProtocolError({ type, code: 0, retriable, message: type } as never);
/** How kafkajs reports a retry loop that gave up: a non-retriable wrapper around the last error. */
const gaveUp = (cause: Error) => new KafkaJSNumberOfRetriesExceeded(cause, { retryCount: 5, retryTime: 100 });

describe('classifyKafkaError', () => {
  it.each([
    ['MESSAGE_TOO_LARGE', false, 'fatal'],
    ['RECORD_LIST_TOO_LARGE', false, 'fatal'],
    ['INVALID_RECORD', false, 'fatal'],
    ['CORRUPT_MESSAGE', true, 'fatal'],
    ['TOPIC_AUTHORIZATION_FAILED', false, 'fatal'],
    ['CLUSTER_AUTHORIZATION_FAILED', false, 'fatal'],
    ['POLICY_VIOLATION', false, 'fatal'],
    ['INVALID_TOPIC_EXCEPTION', false, 'fatal'],
    ['OUT_OF_ORDER_SEQUENCE_NUMBER', false, 'reset'],
    ['UNKNOWN_PRODUCER_ID', false, 'reset'],
    ['INVALID_PRODUCER_EPOCH', false, 'reset'],
    ['NOT_LEADER_FOR_PARTITION', true, 'retriable'],
    ['LEADER_NOT_AVAILABLE', true, 'retriable'],
    ['NOT_ENOUGH_REPLICAS', true, 'retriable'],
    ['NOT_ENOUGH_REPLICAS_AFTER_APPEND', true, 'retriable'],
    ['REQUEST_TIMED_OUT', true, 'retriable'],
    ['UNKNOWN_TOPIC_OR_PARTITION', true, 'retriable'],
    ['NOT_COORDINATOR', true, 'retriable'],
  ] as const)('broker answer %s (kafkajs retriable: %s) is %s', (type, retriable, expected) => {
    expect(classifyKafkaError(broker(type, retriable))).toBe(expected);
    // The same answer after kafkajs' own retries gave up.
    expect(classifyKafkaError(gaveUp(broker(type, retriable)))).toBe(expected);
    expect(kafkaErrorType(gaveUp(broker(type, retriable)))).toBe(type);
  });

  it('connection losses and request timeouts are retriable, also after kafkajs gave up', () => {
    const lost = new KafkaJSConnectionError('Connection error: ECONNREFUSED');
    const slow = new KafkaJSRequestTimeoutError('Request Produce(key: 0, version: 7) timed out');
    expect(classifyKafkaError(lost)).toBe('retriable');
    expect(classifyKafkaError(slow)).toBe('retriable');
    expect(classifyKafkaError(gaveUp(lost))).toBe('retriable');
    expect(classifyKafkaError(new KafkaJSError('The producer is disconnected'))).toBe('retriable');
  });

  it('authentication failures and non-retriable kafkajs errors are fatal', () => {
    // kafkajs' types omit the message its constructor takes.
    const Sasl = KafkaJSSASLAuthenticationError as unknown as new (message: string) => Error;
    expect(classifyKafkaError(new Sasl('SASL PLAIN authentication failed'))).toBe('fatal');
    expect(classifyKafkaError(new KafkaJSNonRetriableError('Invalid partitioner'))).toBe('fatal');
  });

  it('our own KafkaUnavailableError is retriable; an error that says nothing (a bug) is fatal', () => {
    expect(classifyKafkaError(new KafkaUnavailableError('no acknowledgement within 10000 ms'))).toBe(
      'retriable',
    );
    expect(classifyKafkaError(new TypeError("Cannot read properties of undefined (reading 'x')"))).toBe(
      'fatal',
    );
    expect(classifyKafkaError('a string')).toBe('fatal');
  });
});

describe('classifyKafkaError, @platformatic/kafka errors (the publisher with PUBLISHER_KAFKA_CLIENT=platformatic)', () => {
  /** How the client reports a request that failed on every attempt: all attempts' errors, aggregated. */
  const allAttempts = (...errors: Error[]) => new MultipleErrors('Produce failed 6 times.', errors);

  it.each([
    ['MESSAGE_TOO_LARGE', 'fatal'],
    ['TOPIC_AUTHORIZATION_FAILED', 'fatal'],
    ['OUT_OF_ORDER_SEQUENCE_NUMBER', 'reset'],
    ['INVALID_PRODUCER_EPOCH', 'reset'],
    ['NOT_LEADER_OR_FOLLOWER', 'retriable'],
    ['NOT_ENOUGH_REPLICAS', 'retriable'],
    ['INVALID_REQUIRED_ACKS', 'fatal'],
  ] as const)('broker answer %s is %s, alone and inside a give-up', (id, expected) => {
    expect(classifyKafkaError(new PlatformaticProtocolError(id))).toBe(expected);
    expect(classifyKafkaError(allAttempts(new PlatformaticProtocolError(id)))).toBe(expected);
    expect(kafkaErrorType(allAttempts(new PlatformaticProtocolError(id)))).toBe(id);
  });

  it('takes a lost connection and a request timeout as retriable (the client marks the timeout not retriable)', () => {
    expect(classifyKafkaError(new NetworkError('Connection closed'))).toBe('retriable');
    const timeout = new TimeoutError('Request timed out');
    expect(timeout.canRetry).toBe(false);
    expect(classifyKafkaError(timeout)).toBe('retriable');
    expect(classifyKafkaError(allAttempts(timeout, timeout))).toBe('retriable');
  });

  it('takes a misuse of the client as fatal', () => {
    expect(classifyKafkaError(new UserError('Cannot specify producerId'))).toBe('fatal');
  });

  it('finds UNKNOWN_TOPIC_OR_PARTITION inside a metadata give-up, for the "does not exist" message', () => {
    const err = allAttempts(new PlatformaticProtocolError('UNKNOWN_TOPIC_OR_PARTITION'));
    expect(kafkaErrorType(err)).toBe('UNKNOWN_TOPIC_OR_PARTITION');
  });
});
