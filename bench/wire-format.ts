import { gzipSync } from 'node:zlib';
import { lastValueFrom, from, toArray } from 'rxjs';
import { avroCodec } from '../src/domain/avro-codec.js';
import { jsonCodec, type PositionCodec } from '../src/domain/codec.js';
import { POSITION_AVRO_V1, PositionAvroType } from '../src/domain/position-avro.js';
import type { Ack } from '../src/stream/batch.js';
import type { RawRecord, SourceChunk } from '../src/stream/source-chunk.js';
import { decodePositions } from '../src/topology/decode-positions.js';
import { loadWriterSchemas, WriterSchemas } from '../src/topology/writer-schemas.js';
import { benchPosition, seededRandom } from './fleet-positions.js';

export interface WireFormatFigures {
  /** Mean record value on the wire, uncompressed. */
  bytesPerPosition: number;
  /** Mean per position inside gzip'd produce batches of 1000 (the publisher's compression). */
  gzipBytesPerPosition: number;
  /** Producer CPU to encode one position, µs (best of 3). */
  encodeUsPerRecord: number;
  /** Processor CPU to decode + validate one record (the topology's decode stage), µs (best of 3). */
  decodeUsPerRecord: number;
}

export interface WireFormatResult {
  records: number;
  json: WireFormatFigures;
  avro: WireFormatFigures;
}

const CHUNK = 5000;
const ack: Ack = { hold() {}, release() {} };

function cpuUs(fn: () => void | Promise<void>): Promise<number> {
  const start = process.cpuUsage();
  return Promise.resolve(fn()).then(() => {
    const used = process.cpuUsage(start);
    return used.user + used.system;
  });
}

async function bestOf3(fn: () => void | Promise<void>): Promise<number> {
  const runs: number[] = [];
  for (let i = 0; i < 3; i++) runs.push(await cpuUs(fn));
  return Math.min(...runs);
}

/**
 * JSON vs Avro on the same positions, in-process: what each costs on the wire and in CPU. The
 * decode runs the processor's own operators (`loadWriterSchemas` + `decodePositions`) over
 * 5000-record chunks like the Kafka source's; the Avro writer schema is already cached (as after
 * the first record of a run), so the registry round trip is not in the figure. Everything after
 * decoding (Redis, warehouse) sees the same `Position` objects for both formats.
 */
export async function wireFormatComparison(records: number): Promise<WireFormatResult> {
  const random = seededRandom(3);
  const now = Date.now();
  // 1 ms apart, all in the past: the decode refuses positions too far ahead of the clock (a full
  // run's 1M positions from now - 60 s reached 15 min ahead, and 105,869 of them were refused).
  const positions = Array.from({ length: records }, (_, i) =>
    benchPosition(i % 25_000, now - records + i, random),
  );
  const avroType = new PositionAvroType(POSITION_AVRO_V1);
  const schemas = new WriterSchemas({ schemaById: async () => POSITION_AVRO_V1 });
  await schemas.load([1]);
  const measure = async (codec: PositionCodec): Promise<WireFormatFigures> => {
    let values: Buffer[] = [];
    const encodeUs = await bestOf3(() => {
      values = positions.map((p) => codec.encode(p));
    });
    let bytes = 0;
    let gzipBytes = 0;
    for (let i = 0; i < values.length; i++) bytes += values[i]!.length;
    for (let i = 0; i < values.length; i += 1000)
      gzipBytes += gzipSync(Buffer.concat(values.slice(i, i + 1000))).length;
    const headers = { 'content-type': codec.contentType };
    const chunks: SourceChunk[] = [];
    for (let i = 0; i < values.length; i += CHUNK) {
      const recs: RawRecord[] = values.slice(i, i + CHUNK).map((value, j) => ({
        key: Buffer.from(positions[i + j]!.vehicleId, 'latin1'),
        value,
        timestamp: String(now),
        offset: String(i + j),
        headers,
      }));
      chunks.push({
        topic: 'bench',
        topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
        partition: 0,
        records: recs,
        bytes: 0,
        ack,
      });
    }
    let invalid = 0;
    const decodeUs = await bestOf3(async () => {
      const out = await lastValueFrom(
        from(chunks).pipe(loadWriterSchemas(schemas), decodePositions({ writerSchemas: schemas }), toArray()),
      );
      invalid = out.reduce((n, d) => n + d.invalid.items.length, 0);
    });
    if (invalid > 0) throw new Error(`${codec.name}: ${invalid} bench positions did not decode`);
    const round = (v: number) => Math.round(v * 100) / 100;
    return {
      bytesPerPosition: round(bytes / records),
      gzipBytesPerPosition: round(gzipBytes / records),
      encodeUsPerRecord: round(encodeUs / records),
      decodeUsPerRecord: round(decodeUs / records),
    };
  };
  // Warm-up so neither format pays for JIT compilation first.
  await measure(jsonCodec);
  return { records, json: await measure(jsonCodec), avro: await measure(avroCodec(1, avroType)) };
}
