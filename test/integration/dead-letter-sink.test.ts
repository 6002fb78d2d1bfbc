import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Partitioners, type Consumer, type KafkaMessage, type Producer } from 'kafkajs';
import { Registry, type Counter } from 'prom-client';
import type { DeadLetter } from '../../src/domain/records.js';
import { SinkError } from '../../src/errors.js';
import { createKafka } from '../../src/kafka/client.js';
import { silentLogger } from '../../src/logger.js';
import {
  createKafkaDeadLetterSink,
  DLQ_HEADERS,
  type DeadLetterSink,
} from '../../src/sinks/dead-letter-sink.js';
import { createTestTopics, deleteTestTopics, eventually, testConfig, testKafka } from '../support/env.js';

const failedAt = new Date('2030-01-02T03:04:05.678Z');

describe('kafka dead-letter sink on the real broker', () => {
  const config = testConfig();
  const registry = new Registry();
  let producer: Producer;
  let consumer: Consumer;
  let sink: DeadLetterSink;
  const received: KafkaMessage[] = [];

  beforeAll(async () => {
    await createTestTopics(config);
    const kafka = testKafka(config);
    producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    sink = createKafkaDeadLetterSink({ producer, topic: config.topic.dlq, registry, now: () => failedAt });
    consumer = kafka.consumer({ groupId: config.consumer.groupId, maxBytes: 16 * 1024 * 1024 });
    await consumer.connect();
    await consumer.subscribe({ topic: config.topic.dlq, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        received.push(message);
      },
    });
  });

  afterAll(async () => {
    await sink?.close();
    await consumer?.disconnect();
    await producer?.disconnect();
    await deleteTestTopics(config);
  });

  /** Writes letters tagged with a unique source topic and waits for them on the DLQ. */
  async function roundTrip(letters: Omit<DeadLetter, 'topic'>[]): Promise<KafkaMessage[]> {
    const source = `src-${randomBytes(4).toString('hex')}`;
    await sink.write(letters.map((l) => ({ ...l, topic: source })));
    const mine = () => received.filter((m) => m.headers?.[DLQ_HEADERS.sourceTopic]?.toString() === source);
    await eventually(() => mine().length >= letters.length, 20_000, 50);
    return mine().sort(
      (a, b) => Number(header(a, DLQ_HEADERS.sourceOffset)) - Number(header(b, DLQ_HEADERS.sourceOffset)),
    );
  }

  it('keeps the original key and value bytes and says why, where from and when', async () => {
    const garbage = Buffer.from([0xff, 0xfe, 0x00, 0x9c, 0x80, 0x7b]);
    const [a, b] = await roundTrip([
      {
        partition: 2,
        offset: '41',
        key: Buffer.from('veh-1'),
        value: garbage,
        reason: 'value is not valid JSON: Unexpected token',
        errorType: 'DecodeError',
        headers: { 'content-type': 'application/json', 'trace-id': 'abc' },
      },
      {
        partition: 0,
        offset: '42',
        key: null,
        value: null,
        reason: 'ts: must be an integer',
        errorType: 'ValidationError',
      },
    ]);
    expect(a!.key).toEqual(Buffer.from('veh-1'));
    expect(Buffer.compare(a!.value!, garbage)).toBe(0);
    expect(headers(a!)).toEqual({
      [DLQ_HEADERS.reason]: 'value is not valid JSON: Unexpected token',
      [DLQ_HEADERS.errorType]: 'DecodeError',
      [DLQ_HEADERS.sourceTopic]: expect.stringMatching(/^src-/),
      [DLQ_HEADERS.sourcePartition]: '2',
      [DLQ_HEADERS.sourceOffset]: '41',
      [DLQ_HEADERS.failedAt]: '2030-01-02T03:04:05.678Z',
      'x-original-content-type': 'application/json',
      'x-original-trace-id': 'abc',
    });
    expect(b!.key).toBeNull();
    expect(b!.value).toBeNull();
    expect(header(b!, DLQ_HEADERS.errorType)).toBe('ValidationError');

    const counter = registry.getSingleMetric('fleet_dead_letters_total') as Counter;
    const values = (await counter.get()).values;
    expect(values.find((v) => v.labels.error_type === 'DecodeError')?.value).toBeGreaterThanOrEqual(1);
    expect(values.find((v) => v.labels.error_type === 'ValidationError')?.value).toBeGreaterThanOrEqual(1);
  });

  it('truncates values too large for the broker, and splits writes larger than one batch may be', async () => {
    const huge = randomBytes(3 * 1024 * 1024);
    const big = [randomBytes(800_000), randomBytes(800_000), randomBytes(800_000)];
    const letters = [huge, ...big].map((value, i) => ({
      partition: 0,
      offset: String(i),
      key: Buffer.from(`veh-${i}`),
      value,
      reason: 'record value exceeds the 16384 byte limit',
      errorType: 'DecodeError',
    }));
    const [first, ...rest] = await roundTrip(letters);
    expect(header(first!, DLQ_HEADERS.valueTruncated)).toBe('true');
    expect(header(first!, DLQ_HEADERS.valueBytes)).toBe(String(huge.length));
    expect(first!.value!.length).toBeLessThan(1_000_000);
    expect(first!.value!.length).toBeGreaterThan(900_000);
    expect(Buffer.compare(first!.value!, huge.subarray(0, first!.value!.length))).toBe(0);
    rest.forEach((m, i) => {
      expect(Buffer.compare(m.value!, big[i]!)).toBe(0);
      expect(header(m, DLQ_HEADERS.valueTruncated)).toBeUndefined();
    });
  });

  it('replaces a huge key by null and keeps a truncated copy in a header', async () => {
    const key = Buffer.alloc(100_000, 'k');
    const huge = 'h'.repeat(10_000);
    const [m] = await roundTrip([
      {
        partition: 1,
        offset: '7',
        key,
        value: Buffer.from('{}'),
        reason: 'vehicleId: must be at most 128 characters',
        errorType: 'ValidationError',
        headers: { big: huge },
      },
    ]);
    expect(m!.key).toBeNull();
    expect(m!.headers![DLQ_HEADERS.keyTruncated]).toEqual(key.subarray(0, 1024));
    expect(header(m!, DLQ_HEADERS.keyBytes)).toBe('100000');
    expect(m!.value).toEqual(Buffer.from('{}'));
    expect(header(m!, 'x-original-big')!.length).toBeLessThan(huge.length);
    expect(header(m!, DLQ_HEADERS.headersTruncated)).toBe('true');
  });
});

describe('kafka dead-letter sink: errors', () => {
  it('reports a record the broker refuses (limit set above the broker) as not retriable', async () => {
    const config = testConfig();
    await createTestTopics(config);
    const kafka = testKafka(config);
    const sink = createKafkaDeadLetterSink({
      kafka,
      topic: config.topic.dlq,
      registry: new Registry(),
      maxMessageBytes: 8 << 20,
    });
    try {
      const letter = {
        topic: 't',
        partition: 0,
        offset: '1',
        key: null,
        value: randomBytes(3 << 20),
        reason: 'r',
        errorType: 'DecodeError',
      };
      const error = await sink.write([letter]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SinkError);
      expect((error as SinkError).retriable).toBe(false);
      expect((error as SinkError).message).toMatch(/larger than the max message size/);
    } finally {
      await sink.close();
      await deleteTestTopics(config);
    }
  });

  it('rejects with a retriable SinkError', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const kafka = createKafka(
      { ...testConfig().kafka, brokers: [`127.0.0.1:${port}`] },
      {
        logger: silentLogger,
        retry: { retries: 1, initialRetryTime: 50, maxRetryTime: 100 },
        connectionTimeout: 500,
      },
    );
    const sink = createKafkaDeadLetterSink({ kafka, topic: 'unused.dlq', registry: new Registry() });
    const letter = {
      topic: 't',
      partition: 0,
      offset: '1',
      key: null,
      value: null,
      reason: 'r',
      errorType: 'DecodeError',
    };
    const error = await sink.write([letter]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SinkError);
    expect((error as SinkError).retriable).toBe(true);
    await sink.close();
  });
});

function header(message: KafkaMessage, name: string): string | undefined {
  return message.headers?.[name]?.toString();
}

function headers(message: KafkaMessage): Record<string, string> {
  return Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
}
