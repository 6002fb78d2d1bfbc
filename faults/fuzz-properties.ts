import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { avroCodec } from '../src/domain/avro-codec.js';
import { jsonCodec, type PositionCodec } from '../src/domain/codec.js';
import { frame } from '../src/domain/confluent-frame.js';
import { PositionSchema, type Position } from '../src/domain/position.js';
import { POSITION_AVRO_V1, PositionAvroType } from '../src/domain/position-avro.js';
import { parseNativeBody } from '../src/ingest/gateway/native.js';
import { parseOsmAndQuery, parseTraccarJson, type QueryParams } from '../src/ingest/gateway/osmand.js';
import {
  hostileTextArb,
  mangledPositionArb,
  onlyOurErrors,
  positionArb,
  vehicleIdArb,
  type FuzzProperty,
} from './fuzz-arbitraries.js';

/**
 * Properties of everything that parses untrusted input before the API: the position codecs (JSON,
 * Confluent-framed Avro) and the gateway's OsmAnd / Traccar / native parsers. Each either returns a
 * position that satisfies the schema or throws our ValidationError / DecodeError, never anything
 * else; valid positions survive a round trip unchanged.
 */

/** A fixed clock: the generated event times are relative to it. */
const NOW = Date.UTC(2026, 5, 1, 12);
const bounds = { now: NOW };
const SCHEMA_ID = 7;
const avro = avroCodec(SCHEMA_ID, new PositionAvroType(POSITION_AVRO_V1));

/** What a parser returned must itself be a valid position. */
function valid(position: Position | undefined): boolean {
  return position === undefined || PositionSchema.safeParse(position).success;
}

const property = (name: string, build: () => fc.IRawProperty<unknown[]>): FuzzProperty => ({
  name,
  check: async (params) => void (await fc.assert(build() as fc.IAsyncProperty<unknown[]>, params)),
});

function roundTrip(codec: PositionCodec): FuzzProperty {
  return property(`${codec.name} codec: decode(encode(p)) = p`, () =>
    fc.property(positionArb(NOW), (p) => isDeepStrictEqual(codec.decode(codec.encode(p), bounds), p)),
  );
}

/** Bytes near a valid encoding: truncated, one byte changed, or appended to. */
function mutatedBytes(encode: (p: Position) => Buffer): fc.Arbitrary<Buffer> {
  return fc
    .tuple(
      positionArb(NOW),
      fc.nat(),
      fc.integer({ min: 0, max: 255 }),
      fc.constantFrom('cut', 'flip', 'grow'),
    )
    .map(([p, at, byte, how]) => {
      const bytes = Buffer.from(encode(p));
      const i = at % bytes.length;
      if (how === 'cut') return bytes.subarray(0, i);
      if (how === 'grow') return Buffer.concat([bytes, Buffer.from([byte])]);
      bytes[i] = byte;
      return bytes;
    });
}

const randomBytes = fc.uint8Array({ maxLength: 512 }).map((a) => Buffer.from(a));

const osmAndParamsArb: fc.Arbitrary<QueryParams> = fc.dictionary(
  fc.oneof(
    fc.constantFrom('id', 'deviceid', 'timestamp', 'lat', 'lon', 'location', 'speed', 'bearing', 'heading'),
    fc.constantFrom('altitude', 'accuracy', 'batt', 'hdop', 'charge', '__proto__', 'constructor'),
    fc.string({ maxLength: 12 }),
  ),
  fc.oneof(hostileTextArb, fc.array(hostileTextArb, { maxLength: 3 })),
  { maxKeys: 12 },
);

/** The query a Traccar Client sends for `p` (speed in knots, time in unix seconds). */
function osmAndQueryOf(p: Position): QueryParams {
  const q: Record<string, string> = { id: p.vehicleId, lat: String(p.lat), lon: String(p.lon) };
  q.timestamp = String(p.ts / 1000);
  if (p.speed !== undefined) q.speed = String(p.speed / 1.852);
  if (p.heading !== undefined) q.bearing = String(p.heading);
  if (p.battery !== undefined) q.batt = String(p.battery);
  return q;
}

const traccarBodyArb = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.record({
    device_id: fc.oneof(vehicleIdArb, hostileTextArb),
    location: fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.record({
        timestamp: hostileTextArb,
        coords: fc.dictionary(
          fc.constantFrom('latitude', 'longitude', 'speed', 'heading', 'altitude', 'accuracy'),
          fc.oneof(fc.double(), hostileTextArb, fc.constant(null)),
        ),
        battery: fc.jsonValue({ maxDepth: 1 }),
      }),
    ),
  }),
);

export const inputProperties: readonly FuzzProperty[] = [
  roundTrip(jsonCodec),
  roundTrip(avro),
  property('json codec: any bytes decode to a valid position or our error', () =>
    fc.property(
      fc.oneof(
        randomBytes,
        fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
        mangledPositionArb(NOW).map((v) => Buffer.from(JSON.stringify(v))),
        mutatedBytes((p) => jsonCodec.encode(p)),
      ),
      (bytes) => valid(onlyOurErrors(() => jsonCodec.decode(bytes, bounds))),
    ),
  ),
  property('avro codec: any framed bytes decode to a valid position or our error', () =>
    fc.property(
      fc.oneof(
        randomBytes.map((b) => frame(SCHEMA_ID, b)),
        randomBytes,
        mutatedBytes((p) => avro.encode(p)),
      ),
      (bytes) => valid(onlyOurErrors(() => avro.decode(bytes, bounds))),
    ),
  ),
  property('OsmAnd: any query gives a valid position or a ValidationError', () =>
    fc.property(osmAndParamsArb, (params) => valid(onlyOurErrors(() => parseOsmAndQuery(params, bounds)))),
  ),
  property('OsmAnd: the query of a position parses back to it', () =>
    fc.property(
      // Whole seconds (the protocol's unit); speeds away from the 1500 km/h limit, which a knots
      // round trip may cross by one ulp.
      positionArb(NOW).map((p) => ({
        ...p,
        ts: Math.floor(p.ts / 1000) * 1000,
        ...(p.speed !== undefined ? { speed: Math.min(p.speed, 1400) } : {}),
      })),
      (p) => {
        const back = parseOsmAndQuery(osmAndQueryOf(p), bounds);
        const close = (a?: number, b?: number) =>
          a === b ||
          (a !== undefined && b !== undefined && Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)));
        return (
          back.vehicleId === p.vehicleId &&
          back.ts === p.ts &&
          back.lat === p.lat &&
          back.lon === p.lon &&
          back.heading === p.heading &&
          back.battery === p.battery &&
          close(back.speed, p.speed)
        );
      },
    ),
  ),
  property('Traccar JSON: any body gives valid positions or a ValidationError', () =>
    fc.property(traccarBodyArb, (body) =>
      (onlyOurErrors(() => parseTraccarJson(body, bounds)) ?? []).every((p) => valid(p)),
    ),
  ),
  property('native body: any JSON is split into valid positions and reasons, or a ValidationError', () =>
    fc.property(
      fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.array(mangledPositionArb(NOW), { maxLength: 5 })),
      (body) => {
        const batch = onlyOurErrors(() => parseNativeBody(body, bounds));
        return (
          batch === undefined ||
          (batch.accepted.every((p) => valid(p)) && batch.rejected.every((r) => r.issues.length > 0))
        );
      },
    ),
  ),
];
