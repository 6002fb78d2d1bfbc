import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import type { Position } from '../../src/domain/position.js';
import { KafkaUnavailableError, ValidationError } from '../../src/errors.js';
import { createKafka } from '../../src/kafka/client.js';
import { partitionForKey } from '../../src/kafka/partitioner.js';
import { silentLogger } from '../../src/logger.js';
import { createPublisher, PositionPublisher } from '../../src/ingest/publisher.js';
import { createTestTopics, deleteTestTopics, testConfig } from '../support/env.js';
import { readTopic } from '../support/read-topic.js';

const t0 = Date.now();
const at = (vehicleId: string, i: number): Position => ({
  vehicleId,
  ts: t0 + i * 1000,
  lat: 52.5 + i * 1e-4,
  lon: 13.4 + i * 1e-4,
  speed: 30 + (i % 20),
  heading: (i * 7) % 360,
});

describe.each(['kafkajs', 'platformatic'] as const)(
  'PositionPublisher (%s client) on the real broker',
  (client) => {
    const config = testConfig({ PUBLISHER_KAFKA_CLIENT: client });
    const registry = new Registry();
    let publisher: PositionPublisher;

    beforeAll(async () => {
      await createTestTopics(config);
      publisher = createPublisher(config, { logger: silentLogger, registry, lingerMs: 5 });
      await publisher.connect();
    });
    afterAll(async () => {
      await publisher.close();
      await deleteTestTopics(config);
    });

    it('keys every record by vehicle id, keeps each vehicle on one partition in send order', async () => {
      const vehicles = Array.from({ length: 24 }, (_, v) => `veh-${v}`);
      const perVehicle = 40;
      // Interleaved calls, many in flight at once: coalesced into few produce requests.
      const calls: Promise<void>[] = [];
      for (let i = 0; i < perVehicle; i++) {
        calls.push(publisher.publish(vehicles.map((v) => at(v, i))));
        if (i % 10 === 9) await Promise.all(calls.splice(0));
      }
      await Promise.all(calls);
      const total = vehicles.length * perVehicle;
      const stats = publisher.stats();
      expect(stats).toMatchObject({ sent: total, acked: total, failed: 0, queued: 0 });
      expect(stats.requests).toBeLessThan(perVehicle * 3);

      const records = await readTopic(config, { expected: total });
      expect(records).toHaveLength(total);
      const partitionsOf = new Map<string, Set<number>>();
      const tsOf = new Map<string, number[]>();
      for (const r of records) {
        const position = JSON.parse(r.value!) as Position;
        expect(r.key).toBe(position.vehicleId);
        expect(r.headers['content-type']).toBe('application/json');
        partitionsOf.set(r.key!, (partitionsOf.get(r.key!) ?? new Set()).add(r.partition));
        tsOf.set(r.key!, [...(tsOf.get(r.key!) ?? []), position.ts]);
      }
      for (const v of vehicles) {
        expect(partitionsOf.get(v)?.size).toBe(1);
        // Kafka's default partitioner, whichever client: both clients put a vehicle on the same partition.
        expect([...partitionsOf.get(v)!]).toEqual([partitionForKey(v, config.topic.partitions)]);
        // records are in offset order within the partition: ts must be exactly the send order
        expect(tsOf.get(v)).toEqual(Array.from({ length: perVehicle }, (_, i) => t0 + i * 1000));
      }
      const used = new Set([...partitionsOf.values()].flatMap((s) => [...s]));
      expect(used.size).toBe(config.topic.partitions);
      expect(await registry.getSingleMetricAsString('fleet_producer_acked_total')).toContain(
        `fleet_producer_acked_total ${total}`,
      );
    });

    it('rejects an oversized position before sending anything', async () => {
      const before = publisher.stats().sent;
      const many = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, 'y'.repeat(1000)]));
      await expect(publisher.publish([{ ...at('big', 0), attributes: many }])).rejects.toBeInstanceOf(
        ValidationError,
      );
      expect(publisher.stats().sent).toBe(before);
    });

    it('close() flushes positions that were published but not yet sent', async () => {
      const late = createPublisher(config, { logger: silentLogger, registry, lingerMs: 200 });
      const pending = late.publish([at('flush-1', 0), at('flush-2', 0)]);
      await late.close();
      await expect(pending).resolves.toBeUndefined();
      expect(late.stats()).toMatchObject({ acked: 2, state: 'STOPPED' });
      await expect(late.publish([at('flush-1', 1)])).rejects.toBeInstanceOf(KafkaUnavailableError);
    });
  },
);

describe('PositionPublisher without Kafka', () => {
  it('fails a publish with KafkaUnavailableError when no broker answers', async () => {
    const config = testConfig({ KAFKA_BROKERS: '127.0.0.1:1' });
    const kafka = createKafka(config.kafka, {
      logger: silentLogger,
      retry: { retries: 0 },
      connectionTimeout: 200,
    });
    const publisher = new PositionPublisher({ kafka, topic: config.topic.name, registry: new Registry() });
    const started = Date.now();
    await expect(publisher.publish([at('nobody', 0)], { timeoutMs: 2000 })).rejects.toBeInstanceOf(
      KafkaUnavailableError,
    );
    expect(Date.now() - started).toBeLessThan(2500);
    expect(publisher.stats()).toMatchObject({ acked: 0, failed: 1, queued: 0 });
    await publisher.close({ timeoutMs: 100 });
  });

  it('fails fast when its buffer is full, before anything is sent', async () => {
    const config = testConfig({ KAFKA_BROKERS: '127.0.0.1:1' });
    const kafka = createKafka(config.kafka, { logger: silentLogger, retry: { retries: 0 } });
    const publisher = new PositionPublisher({
      kafka,
      topic: config.topic.name,
      registry: new Registry(),
      maxQueued: 3,
    });
    const waiting = publisher.publish([at('a', 0), at('b', 0)], { timeoutMs: 1000 });
    await expect(publisher.publish([at('c', 0), at('d', 0)])).rejects.toThrow(/buffer full/);
    await expect(waiting).rejects.toBeInstanceOf(KafkaUnavailableError);
    expect(publisher.stats()).toMatchObject({ sent: 0, failed: 4, queued: 0 });
    await publisher.close({ timeoutMs: 100 });
  });

  it('fails a publish with KafkaUnavailableError when no broker answers (platformatic client)', async () => {
    const config = testConfig({ KAFKA_BROKERS: '127.0.0.1:1', PUBLISHER_KAFKA_CLIENT: 'platformatic' });
    const publisher = createPublisher(config, { logger: silentLogger, registry: new Registry() });
    await expect(publisher.publish([at('nobody', 0)], { timeoutMs: 2000 })).rejects.toBeInstanceOf(
      KafkaUnavailableError,
    );
    expect(publisher.stats()).toMatchObject({ acked: 0, failed: 1, queued: 0 });
    await publisher.close({ timeoutMs: 100 });
  });

  it('names the missing topic (platformatic client)', async () => {
    const config = testConfig({ PUBLISHER_KAFKA_CLIENT: 'platformatic' });
    const publisher = createPublisher(config, { logger: silentLogger, registry: new Registry() });
    await expect(publisher.connect()).rejects.toThrow(/does not exist.*fleet topics create/);
    await publisher.close({ timeoutMs: 100 });
  });

  it('names the missing topic', async () => {
    const config = testConfig();
    const kafka = createKafka(config.kafka, {
      logger: silentLogger,
      retry: { retries: 1, initialRetryTime: 50 },
    });
    const publisher = new PositionPublisher({ kafka, topic: config.topic.name, registry: new Registry() });
    await expect(publisher.connect()).rejects.toThrow(/does not exist.*fleet topics create/);
    await publisher.close({ timeoutMs: 100 });
  });
});
