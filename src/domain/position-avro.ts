import avro from 'avsc';
import { DecodeError } from '../errors.js';
import type { AttributeValue, Position } from './position.js';

/** The registry subject of position values (Confluent TopicNameStrategy: `<topic>-value`). */
export const positionSubject = (topic: string): string => `${topic}-value`;

const optionalDouble = (name: string, doc: string) => ({
  name,
  type: ['null', 'double'],
  default: null,
  doc,
});

/**
 * Version 1 of a position in Avro: the same fields as `PositionSchema` (a unit test keeps the two
 * equal): required fields plain, optional ones `null`-unions defaulting to null, the event time a
 * `timestamp-millis` long, free attributes a map of scalars. Ranges stay in `parsePosition`, which
 * validates Avro and JSON positions alike.
 */
export const POSITION_AVRO_V1 = {
  type: 'record',
  name: 'Position',
  namespace: 'io.fleettracker',
  doc: 'A vehicle position (topic vehicle_positions, key = vehicleId).',
  fields: [
    { name: 'vehicleId', type: 'string' },
    {
      name: 'ts',
      type: { type: 'long', logicalType: 'timestamp-millis' },
      doc: 'Event time, epoch ms.',
    },
    { name: 'lat', type: 'double' },
    { name: 'lon', type: 'double' },
    optionalDouble('speed', 'km/h'),
    optionalDouble('heading', 'degrees clockwise from north'),
    optionalDouble('altitude', 'metres'),
    optionalDouble('accuracy', 'metres'),
    optionalDouble('battery', 'percent'),
    {
      name: 'attributes',
      type: ['null', { type: 'map', values: ['null', 'boolean', 'double', 'string'] }],
      default: null,
    },
  ],
} as const;

/** The Avro field names of version 1, which map one to one onto `Position`. */
export const POSITION_FIELDS: ReadonlySet<string> = new Set(POSITION_AVRO_V1.fields.map((f) => f.name));

/**
 * A compiled writer schema. Encoding writes a `Position`; decoding turns any writer version back
 * into a `Position`: fields of version 1 map onto their own names, fields a later version added
 * (an optional sensor value, say) land in `attributes` under their own name — so the table and the
 * warehouse keep them without a migration. Nulls are dropped, as JSON producers omit them.
 */
export class PositionAvroType {
  private readonly type: avro.Type;
  private readonly extraFields: readonly string[];

  constructor(readonly schema: object) {
    // 'auto' keeps unambiguous unions (null | double | …) as plain JS values, no {double: x} wrappers.
    this.type = avro.Type.forSchema(schema as avro.Schema, { wrapUnions: 'auto' });
    const fields = (schema as { fields?: { name: string }[] }).fields ?? [];
    this.extraFields = fields.map((f) => f.name).filter((n) => !POSITION_FIELDS.has(n));
  }

  encode(position: Position): Buffer {
    const record: Record<string, unknown> = {};
    const fields = position as Readonly<Record<string, unknown>>;
    for (const name of POSITION_FIELDS) record[name] = fields[name] ?? null;
    for (const name of this.extraFields) record[name] = position.attributes?.[name] ?? null;
    return this.type.toBuffer(record);
  }

  /** Decodes an Avro body; throws DecodeError when the bytes do not match the writer schema. */
  decode(body: Buffer): Record<string, unknown> {
    let value: Record<string, unknown>;
    try {
      const { value: decoded, offset } = this.type.decode(body, 0);
      if (offset !== body.length) throw new Error(`${body.length - Math.max(offset, 0)} unread bytes`);
      value = decoded as Record<string, unknown>;
    } catch (err) {
      throw new DecodeError(`Avro body does not match its writer schema: ${(err as Error).message}`);
    }
    const out: Record<string, unknown> = {};
    for (const name of POSITION_FIELDS) {
      const v = value[name];
      if (v !== null && v !== undefined) out[name] = v;
    }
    if (this.extraFields.length > 0) {
      const attributes: Record<string, AttributeValue> = { ...(out.attributes as object | undefined) };
      for (const name of this.extraFields) {
        const v = value[name];
        if (v === null || v === undefined) continue;
        if (typeof v === 'object') throw new DecodeError(`field '${name}' is not a scalar`);
        attributes[name] = v as AttributeValue;
      }
      if (Object.keys(attributes).length > 0) out.attributes = attributes;
    }
    return out;
  }
}
