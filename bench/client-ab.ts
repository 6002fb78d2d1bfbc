import { CompressionTypes } from 'kafkajs';
import {
  Consumer as PlatformaticConsumer,
  Producer as PlatformaticProducer,
  type MessageToProduce,
} from '@platformatic/kafka';
import type { Config } from '../src/config/index.js';
import { jsonCodec } from '../src/domain/codec.js';
import { ServiceError } from '../src/errors.js';
import { partitionForKey } from '../src/kafka/partitioner.js';
import { benchPosition, seededRandom } from './fleet-positions.js';
import { cpuWindow, type CpuWindowResult } from './proc.js';
import { createPlainTopic, type BenchServices } from './services.js';
import { rawKafkajsConsume } from './raw-consume.js';

/**
 * The `@platformatic/kafka` A/B (issue 17 item 2): the same bare jobs with each client, in this
 * process, alternated (A B A B) so a drift of the machine hits both. Consume: count every record of
 * the pre-loaded topic with the processor's fetch settings, no decoding, no commits. Produce: the
 * same pre-encoded positions, keyed and partitioned as the publisher does, acks=all, idempotent,
 * gzip, one send of ≤128 KiB in flight per partition (the publisher's defaults).
 */
export interface ClientRun extends CpuWindowResult {
  client: 'kafkajs' | '@platformatic/kafka';
}

export interface ClientAb {
  consume: ClientRun[];
  produce: ClientRun[];
  /** Records per produce run, messages per send. */
  produceRecords: number;
  messagesPerSend: number;
}

const PUBLISHER_BATCH_BYTES = 128 * 1024;

/** Counts `records` records of the topic from the beginning with `@platformatic/kafka`. */
async function platformaticConsume(
  services: BenchServices,
  config: Readonly<Config>,
  records: number,
  timeoutMs: number,
): Promise<ClientRun> {
  const consumer = new PlatformaticConsumer({
    clientId: 'fleet-bench-platformatic',
    groupId: `bench-raw-platformatic-${Date.now()}`,
    bootstrapBrokers: services.brokers,
    sessionTimeout: config.consumer.sessionTimeoutMs,
    heartbeatInterval: config.consumer.heartbeatIntervalMs,
    minBytes: config.consumer.fetchMinBytes,
    maxWaitTime: config.consumer.fetchMaxWaitMs,
    maxBytesPerPartition: config.consumer.fetchMaxBytesPerPartition,
  });
  try {
    const stream = await consumer.consume({
      topics: [config.topic.name],
      mode: 'earliest',
      autocommit: false,
    });
    // consume() resolves once the group is joined: timed from there, as the kafkajs loop is.
    const window = cpuWindow(services.pids.kafka);
    let seen = 0;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new ServiceError(`@platformatic/kafka consume saw ${seen} of ${records} in ${timeoutMs} ms`),
          ),
        timeoutMs,
      );
      stream.on('error', reject);
      stream.on('data', () => {
        if (++seen === records) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const run = { client: '@platformatic/kafka' as const, ...window(seen) };
    await stream.close();
    return run;
  } finally {
    // Forced: a stream left open by a failed run is closed with it.
    await new Promise<void>((resolve) => consumer.close(true, () => resolve()));
  }
}

interface Encoded {
  key: Buffer;
  value: Buffer;
  partition: number;
}

/** `records` positions of `vehicles` vehicles, encoded and partitioned as the publisher does. */
function encodedPositions(records: number, vehicles: number, partitions: number): Encoded[][] {
  const random = seededRandom(7);
  const lanes: Encoded[][] = Array.from({ length: partitions }, () => []);
  const start = Date.now() - 3_600_000;
  for (let i = 0; i < records; i++) {
    const p = benchPosition(i % vehicles, start + i, random);
    const partition = partitionForKey(p.vehicleId, partitions);
    lanes[partition]?.push({ key: Buffer.from(p.vehicleId), value: jsonCodec.encode(p), partition });
  }
  return lanes;
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** One lane per partition, each awaiting its send before the next (the publisher's shape). */
async function sendLanes(lanes: Encoded[][][], send: (chunk: Encoded[]) => Promise<unknown>): Promise<void> {
  await Promise.all(
    lanes.map(async (lane) => {
      for (const chunk of lane) await send(chunk);
    }),
  );
}

async function kafkajsProduce(services: BenchServices, topic: string, lanes: Encoded[][][], records: number) {
  const producer = services.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    await producer.send({ topic, messages: [{ key: 'warm-up', value: 'x' }], acks: -1 });
    const window = cpuWindow(services.pids.kafka);
    await sendLanes(lanes, (chunk) =>
      producer.send({ topic, messages: chunk, acks: -1, compression: CompressionTypes.GZIP }),
    );
    return { client: 'kafkajs' as const, ...window(records) };
  } finally {
    await producer.disconnect();
  }
}

async function platformaticProduce(
  services: BenchServices,
  topic: string,
  lanes: Encoded[][][],
  records: number,
) {
  const producer = new PlatformaticProducer({
    clientId: 'fleet-bench-platformatic',
    bootstrapBrokers: services.brokers,
    idempotent: true,
    acks: -1,
    compression: 'gzip',
  });
  try {
    await producer.send({ messages: [{ topic, key: Buffer.from('warm-up'), value: Buffer.from('x') }] });
    const window = cpuWindow(services.pids.kafka);
    await sendLanes(lanes, (chunk) =>
      producer.send({
        messages: chunk.map((m): MessageToProduce => ({
          topic,
          key: m.key,
          value: m.value,
          partition: m.partition,
        })),
      }),
    );
    return { client: '@platformatic/kafka' as const, ...window(records) };
  } finally {
    await producer.close();
  }
}

/** Runs both clients twice each, alternated, on the consume and the produce job. */
export async function clientAb(
  services: BenchServices,
  config: Readonly<Config>,
  options: {
    records: number;
    produceRecords: number;
    vehicles: number;
    partitions: number;
    topicPrefix: string;
  },
): Promise<ClientAb> {
  const timeoutMs = 60_000 + options.records;
  const consume: ClientRun[] = [];
  for (let round = 0; round < 2; round++) {
    const k = await rawKafkajsConsume(services, config, options.records, timeoutMs);
    consume.push({
      client: 'kafkajs',
      records: k.records,
      recordsPerS: k.recordsPerS,
      cpuUsPerRecord: k.cpuUsPerRecord,
      brokerCpuUsPerRecord: k.brokerCpuUsPerRecord,
    });
    consume.push(await platformaticConsume(services, config, options.records, timeoutMs));
  }
  const encoded = encodedPositions(options.produceRecords, options.vehicles, options.partitions);
  const size =
    encoded.flat().reduce((sum, m) => sum + m.value.length + m.key.length, 0) / options.produceRecords;
  const messagesPerSend = Math.max(1, Math.floor(PUBLISHER_BATCH_BYTES / size));
  const lanes = encoded.map((lane) => chunks(lane, messagesPerSend));
  const produce: ClientRun[] = [];
  for (let round = 0; round < 2; round++) {
    for (const client of ['kafkajs', '@platformatic/kafka'] as const) {
      const topic = `${options.topicPrefix}_${client === 'kafkajs' ? 'kafkajs' : 'platformatic'}_${round}`;
      await createPlainTopic(services, topic, options.partitions);
      const run =
        client === 'kafkajs'
          ? await kafkajsProduce(services, topic, lanes, options.produceRecords)
          : await platformaticProduce(services, topic, lanes, options.produceRecords);
      produce.push(run);
    }
  }
  return { consume, produce, produceRecords: options.produceRecords, messagesPerSend };
}
