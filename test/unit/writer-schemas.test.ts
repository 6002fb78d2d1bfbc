import { firstValueFrom, Subject, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { avroCodec } from '../../src/domain/avro-codec.js';
import { jsonCodec } from '../../src/domain/codec.js';
import { frame } from '../../src/domain/confluent-frame.js';
import type { Position } from '../../src/domain/position.js';
import { POSITION_AVRO_V1, PositionAvroType } from '../../src/domain/position-avro.js';
import { SchemaRegistryError } from '../../src/errors.js';
import type { Ack } from '../../src/stream/batch.js';
import type { RawRecord, SourceChunk } from '../../src/stream/source-chunk.js';
import { decodePositions, type DecodedChunk } from '../../src/topology/decode-positions.js';
import { loadWriterSchemas, WriterSchemas, type SchemaSource } from '../../src/topology/writer-schemas.js';

const NOW = Date.now();
const v1 = avroCodec(11, new PositionAvroType(POSITION_AVRO_V1));
const position = (i: number): Position => ({
  vehicleId: `v${i}`,
  ts: NOW - 1000 + i,
  lat: 50,
  lon: 8 + i / 100,
});
const rec = (offset: number, value: Buffer, key = `v${offset}`): RawRecord => ({
  key: Buffer.from(key),
  value,
  timestamp: String(NOW),
  offset: String(offset),
});
const ack: Ack = { hold() {}, release() {} };
const chunk = (records: RawRecord[]): SourceChunk => ({
  topic: 't',
  topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
  partition: 0,
  records,
  bytes: 1,
  ack,
});

/** A registry that is down for `downFor` calls, then serves id 11 and knows no other id. */
function fakeRegistry(downFor: number) {
  const calls: number[] = [];
  const source: SchemaSource = {
    async schemaById(id) {
      calls.push(id);
      if (calls.length <= downFor)
        throw new SchemaRegistryError('connection refused', undefined, undefined, { retriable: true });
      if (id === 11) return POSITION_AVRO_V1;
      throw new SchemaRegistryError(`Schema ${id} not found.`, 404, 40403);
    },
  };
  return { source, calls };
}

async function run(schemas: WriterSchemas, chunks: SourceChunk[]): Promise<DecodedChunk[]> {
  const in$ = new Subject<SourceChunk>();
  const out = firstValueFrom(
    in$.pipe(loadWriterSchemas(schemas), decodePositions({ writerSchemas: schemas }), toArray()),
  );
  for (const c of chunks) in$.next(c);
  in$.complete();
  return out;
}

describe('writer schemas: per-record JSON or Avro, ids fetched once', () => {
  it('waits out a registry that is down instead of dead-lettering good Avro records, then fetches each id once', async () => {
    const { source, calls } = fakeRegistry(3);
    const slept: number[] = [];
    const schemas = new WriterSchemas(source, {
      backoff: { initialMs: 1, maxMs: 1 },
      sleep: async (ms) => void slept.push(ms),
    });
    const decoded = await run(schemas, [
      chunk([
        rec(0, v1.encode(position(0))),
        rec(1, jsonCodec.encode(position(1))),
        rec(2, v1.encode(position(2))),
      ]),
      chunk([rec(3, v1.encode(position(3)))]),
    ]);
    expect(slept).toHaveLength(3);
    expect(calls).toEqual([11, 11, 11, 11]);
    expect(decoded.flatMap((d) => d.invalid.items)).toEqual([]);
    expect(decoded.flatMap((d) => d.valid.items.map((r) => r.position))).toEqual([0, 1, 2, 3].map(position));
  });

  it('dead-letters unknown ids and broken Avro with the reason, keeps asking about an unknown id only after its TTL', async () => {
    const { source, calls } = fakeRegistry(0);
    let now = 0;
    const schemas = new WriterSchemas(source, { unknownTtlMs: 1000, now: () => now });
    const good = v1.encode(position(5));
    const first = await run(schemas, [
      chunk([rec(0, frame(99, good.subarray(5))), rec(1, frame(11, Buffer.from([1, 2, 3]))), rec(5, good)]),
    ]);
    const letters = first[0]!.invalid.items;
    expect(letters.map((l) => [l.offset, l.errorType])).toEqual([
      ['0', 'DecodeError'],
      ['1', 'DecodeError'],
    ]);
    expect(letters[0]!.reason).toMatch(/schema id 99: unknown to the schema registry.*not found/);
    expect(letters[1]!.reason).toMatch(/does not match its writer schema/);
    expect(first[0]!.valid.items.map((r) => r.position)).toEqual([position(5)]);
    expect(calls.sort()).toEqual([11, 99]);

    await run(schemas, [chunk([rec(0, frame(99, good.subarray(5)))])]);
    expect(calls).toHaveLength(2);
    now = 2000;
    await run(schemas, [chunk([rec(0, frame(99, good.subarray(5)))])]);
    expect(calls).toHaveLength(3);
  });

  it('holds a chunk that waits for the registry, so the source cannot count it durable meanwhile', async () => {
    let answer!: (schema: object) => void;
    const schemas = new WriterSchemas({ schemaById: () => new Promise((resolve) => (answer = resolve)) });
    let pending = 0;
    const counted: Ack = {
      hold: () => void pending++,
      release: () => {
        if (--pending < 0) throw new Error('released too often');
      },
    };
    const in$ = new Subject<SourceChunk>();
    const out = firstValueFrom(
      in$.pipe(loadWriterSchemas(schemas), decodePositions({ writerSchemas: schemas }), toArray()),
    );
    in$.next({ ...chunk([rec(0, v1.encode(position(0)))]), ack: counted });
    in$.complete();
    await new Promise((r) => setTimeout(r, 10));
    expect(pending).toBe(1);
    answer(POSITION_AVRO_V1);
    const [d] = await out;
    expect(d!.valid.items.map((r) => r.position)).toEqual([position(0)]);
    expect(pending).toBe(0);
  });

  it('without a registry, Avro records are dead-lettered naming SCHEMA_REGISTRY_URL; JSON is unaffected', async () => {
    const in$ = new Subject<SourceChunk>();
    const out = firstValueFrom(in$.pipe(loadWriterSchemas(undefined), decodePositions(), toArray()));
    in$.next(chunk([rec(0, v1.encode(position(0))), rec(1, jsonCodec.encode(position(1)))]));
    in$.complete();
    const [d] = await out;
    expect(d!.invalid.items[0]!.reason).toMatch(/SCHEMA_REGISTRY_URL/);
    expect(d!.valid.items.map((r) => r.position)).toEqual([position(1)]);
  });
});
