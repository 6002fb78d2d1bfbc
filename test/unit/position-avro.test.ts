import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { avroCodec } from '../../src/domain/avro-codec.js';
import { codecFor } from '../../src/domain/codec.js';
import { frame, frameSchemaId } from '../../src/domain/confluent-frame.js';
import { PositionSchema, type Position } from '../../src/domain/position.js';
import { POSITION_AVRO_V1, PositionAvroType } from '../../src/domain/position-avro.js';
import { DecodeError, ValidationError } from '../../src/errors.js';

const now = Date.UTC(2026, 0, 1);
const full: Position = {
  vehicleId: 'truck-7',
  ts: now - 1000,
  lat: 48.137,
  lon: 11.575,
  speed: 42.5,
  heading: 270,
  altitude: 519,
  accuracy: 4,
  battery: 88,
  attributes: { ignition: true, driver: 'ann', odometer: 12345.5, note: null },
};
const V2 = {
  ...POSITION_AVRO_V1,
  fields: [...POSITION_AVRO_V1.fields, { name: 'fuelLevel', type: ['null', 'double'], default: null }],
};

describe('the Avro schema of a position', () => {
  it('has exactly the fields of PositionSchema: required ones plain, optional ones null-unions defaulting to null', () => {
    const shape = PositionSchema.shape;
    expect(POSITION_AVRO_V1.fields.map((f) => f.name).sort()).toEqual(Object.keys(shape).sort());
    for (const field of POSITION_AVRO_V1.fields) {
      const optional = shape[field.name as keyof typeof shape] instanceof z.ZodOptional;
      const nullable = Array.isArray(field.type) && field.type[0] === 'null';
      expect({ field: field.name, nullable }).toEqual({ field: field.name, nullable: optional });
      if (optional) expect(field).toHaveProperty('default', null);
    }
    expect(POSITION_AVRO_V1.fields.find((f) => f.name === 'ts')!.type).toEqual({
      type: 'long',
      logicalType: 'timestamp-millis',
    });
  });

  it('round-trips a full and a minimal position through the Confluent frame', () => {
    const codec = avroCodec(7, new PositionAvroType(POSITION_AVRO_V1));
    for (const p of [full, { vehicleId: 'v', ts: now, lat: -90, lon: 180 }]) {
      const value = codec.encode(p);
      expect(value[0]).toBe(0);
      expect(frameSchemaId(value)).toBe(7);
      expect(codec.decode(value, { now })).toEqual(p);
    }
    // Avro is the smaller encoding of the same position.
    expect(codec.encode(full).length).toBeLessThan(Buffer.from(JSON.stringify(full)).length);
  });

  it('puts a field a later version added into attributes, and reads v1 bodies with nothing added', () => {
    const v2 = new PositionAvroType(V2);
    const withFuel = { ...full, attributes: { ...full.attributes, fuelLevel: 0.75 } };
    expect(v2.decode(v2.encode(withFuel))).toEqual(withFuel);
    const noAttributes = { vehicleId: 'x', ts: now, lat: 1, lon: 2, attributes: { fuelLevel: 0.5 } };
    expect(v2.decode(v2.encode(noAttributes))).toEqual(noAttributes);
    const v1 = new PositionAvroType(POSITION_AVRO_V1);
    expect(v1.decode(v1.encode(full))).toEqual(full);
  });

  it('rejects bodies that do not match the writer schema, broken frames and out-of-range values', () => {
    const codec = avroCodec(1, new PositionAvroType(POSITION_AVRO_V1));
    const good = codec.encode(full);
    expect(() => codec.decode(good.subarray(0, good.length - 3), { now })).toThrow(DecodeError);
    expect(() => codec.decode(Buffer.concat([good, Buffer.from([1, 2])]), { now })).toThrow(/unread bytes/);
    expect(() => codec.decode(Buffer.from([0, 0, 0]), { now })).toThrow(/has no Avro body/);
    expect(() => codec.decode(frame(2, good.subarray(5)), { now })).toThrow(/unknown schema id 2/);
    expect(() => codec.decode(codec.encode({ ...full, lat: 91 }), { now })).toThrow(ValidationError);
    expect(() => codecFor('avro/binary').decode(Buffer.from('{"a":1}'))).toThrow(
      /not the Confluent magic byte/,
    );
  });
});
