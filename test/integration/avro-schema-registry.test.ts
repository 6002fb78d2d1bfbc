import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/index.js';
import { AVRO_CONTENT_TYPE } from '../../src/domain/codec.js';
import { frame } from '../../src/domain/confluent-frame.js';
import type { Position } from '../../src/domain/position.js';
import { POSITION_AVRO_V1, positionSubject } from '../../src/domain/position-avro.js';
import { PositionPublisher } from '../../src/ingest/publisher.js';
import { registerAvroCodec } from '../../src/ingest/wire-codec.js';
import { SchemaRegistryClient } from '../../src/kafka/schema-registry.js';
import {
  clearRedisPrefix,
  createTestTopics,
  deleteTestTopics,
  eventually,
  testConfig,
  testKafka,
} from '../support/env.js';
import {
  fleetPositions,
  fullyCommitted,
  newestPerVehicle,
  produce,
  startTestPipeline,
} from '../support/processor-env.js';
import { readTopic } from '../support/read-topic.js';
import { startTestSchemaRegistry, type TestSchemaRegistry } from '../support/schema-registry.js';

/** v2: one new optional field, BACKWARD compatible with v1. */
const V2 = {
  ...POSITION_AVRO_V1,
  fields: [...POSITION_AVRO_V1.fields, { name: 'fuelLevel', type: ['null', 'double'], default: null }],
};
/** v3: a new required field: a v3 reader cannot read v1/v2 data, so BACKWARD refuses it. */
const V3 = { ...V2, fields: [...V2.fields, { name: 'driverId', type: 'string' }] };

let registry: TestSchemaRegistry;
beforeAll(async () => {
  registry = await startTestSchemaRegistry();
  // Read by the report of issue 15: how long the JVM registry takes to come up on this machine.
  process.stderr.write(`schema registry ready in ${registry.startMs} ms at ${registry.url}\n`);
}, 300_000);
afterAll(async () => registry?.stop());

function publisher(config: Readonly<Config>, codec?: Awaited<ReturnType<typeof registerAvroCodec>>) {
  return new PositionPublisher({
    kafka: testKafka(config),
    topic: config.topic.name,
    registry: new Registry(),
    lingerMs: 2,
    ...(codec ? { codec } : {}),
  });
}

describe('Avro with a real schema registry (Apicurio, Confluent-compatible API)', () => {
  it('JSON and Avro producers on one topic, v1 → v2 mid-stream, v3 refused: every position once, bad frames dead-lettered', async () => {
    const config = testConfig({
      SCHEMA_REGISTRY_URL: registry.url,
      BATCH_MAX_WAIT_MS: '300',
      STATE_FLUSH_MAX_WAIT_MS: '20',
      HEARTBEAT_INTERVAL_MS: '500',
    });
    await createTestTopics(config);
    const { table, warehouse, processor, close } = await startTestPipeline(config);
    const client = new SchemaRegistryClient({ url: registry.url });
    const subject = positionSubject(config.topic.name);
    const json = publisher(config);
    const v1 = publisher(config, await registerAvroCodec(client, subject, POSITION_AVRO_V1));
    const publishers = [json, v1];
    try {
      expect(await client.compatibility(subject)).toBe('BACKWARD');
      // Phase 1: JSON and Avro v1 side by side.
      const jsonA = fleetPositions(10, 20, 'json');
      const v1A = fleetPositions(10, 20, 'avro1');
      await Promise.all([json.publish(jsonA), v1.publish(v1A)]);

      // Phase 2: a v2 producer starts while the v1 and JSON producers keep going.
      const v2 = publisher(config, await registerAvroCodec(client, subject, V2));
      publishers.push(v2);
      const v2B = fleetPositions(5, 20, 'avro2').map((p, i) => ({
        ...p,
        attributes: { fuelLevel: (i % 100) / 100, ...(i % 2 ? { driver: 'ann' } : {}) },
      }));
      const jsonB = fleetPositions(10, 10, 'json').map((p) => ({ ...p, ts: p.ts + 1000 }));
      const v1B = fleetPositions(10, 10, 'avro1').map((p) => ({ ...p, ts: p.ts + 1000 }));
      await Promise.all([v2.publish(v2B), v1.publish(v1B), json.publish(jsonB)]);

      // v3 is refused at registration, with the registry's reason.
      await expect(registerAvroCodec(client, subject, V3)).rejects.toThrow(
        /refused this position schema .*incompatible.*driverId/s,
      );

      // Broken input: bad framing, an id nobody registered, a body that is not the schema's.
      const v1Id = await client.register(subject, POSITION_AVRO_V1);
      const now = Date.now();
      const good = { vehicleId: 'bad-id', ts: now, lat: 1, lon: 2 };
      const bad = [
        { key: 'bad-short', value: Buffer.from([0, 0, 0]) },
        { key: 'bad-id', value: frame(987_654, Buffer.from(JSON.stringify(good))) },
        { key: 'bad-body', value: frame(v1Id, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f])) },
        {
          key: 'bad-header',
          value: Buffer.from(JSON.stringify(good)),
          headers: { 'content-type': AVRO_CONTENT_TYPE },
        },
      ];
      await produce(config, bad);

      const all: Position[] = [...jsonA, ...v1A, ...v2B, ...jsonB, ...v1B];
      await eventually(
        async () => (await warehouse.count({ topic: config.topic.name })) >= all.length,
        60_000,
      );
      const dlq = { ...config, topic: { ...config.topic, name: config.topic.dlq } };
      const letters = new Map(
        (await readTopic(dlq, { expected: bad.length })).map((l) => [l.key, l.headers]),
      );
      expect(letters.get('bad-short')!['x-dlq-reason']).toMatch(/no Avro body/);
      expect(letters.get('bad-id')!['x-dlq-reason']).toMatch(
        /schema id 987654: unknown to the schema registry/,
      );
      expect(letters.get('bad-body')!['x-dlq-reason']).toMatch(/does not match its writer schema/);
      expect(letters.get('bad-header')!['x-dlq-reason']).toMatch(/not the Confluent magic byte/);
      await eventually(() => fullyCommitted(config), 20_000);

      // Exactly once in the warehouse: per vehicle, exactly the event times produced.
      expect(await warehouse.count({ topic: config.topic.name })).toBe(all.length);
      const byVehicle = new Map<string, Position[]>();
      for (const p of all) byVehicle.set(p.vehicleId, [...(byVehicle.get(p.vehicleId) ?? []), p]);
      for (const [vehicleId, sent] of byVehicle) {
        const rows = await warehouse.history({ vehicleId, from: 0, to: now + 60_000, limit: 1000 });
        expect(rows.map((r) => r.ts).sort(), vehicleId).toEqual(sent.map((p) => p.ts).sort());
        if (vehicleId.startsWith('avro2')) {
          const fuel = new Map(sent.map((p) => [p.ts, p.attributes!.fuelLevel]));
          for (const row of rows) expect(row.attributes?.fuelLevel, vehicleId).toBe(fuel.get(row.ts));
        }
      }
      // The table: the newest position of every vehicle, v2's new field in its attributes.
      const newest = newestPerVehicle(all);
      expect(await table.count()).toBe(newest.size);
      const ids = [...newest.keys()];
      const states = await table.getMany(ids);
      states.forEach((state, i) => {
        const want = newest.get(ids[i]!)!;
        expect(state, ids[i]).toMatchObject({ ts: want.ts, lat: want.lat, lon: want.lon });
        if (want.attributes) expect(state!.attributes, ids[i]).toEqual(want.attributes);
      });
      expect(processor.state).toBe('RUNNING');
    } finally {
      await Promise.all(publishers.map((p) => p.close()));
      await close();
      await clearRedisPrefix(config);
      await deleteTestTopics(config);
    }
  }, 180_000);
});
