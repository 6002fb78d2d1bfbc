import { DecodeError } from '../errors.js';
import { AVRO_CONTENT_TYPE, MAX_RECORD_BYTES, type PositionCodec } from './codec.js';
import { FRAME_HEADER_BYTES, frame, frameSchemaId } from './confluent-frame.js';
import { parsePosition, type Position, type TimeBounds } from './position.js';
import type { PositionAvroType } from './position-avro.js';

/** The compiled writer schema of a registry id; throws DecodeError (with the reason) when unknown. */
export type WriterLookup = (schemaId: number) => PositionAvroType;

/** Decodes and validates a Confluent-framed Avro position. */
export function decodeAvroPosition(value: Buffer, lookup: WriterLookup, bounds?: TimeBounds): Position {
  if (value.length > MAX_RECORD_BYTES) {
    throw new DecodeError(`record value of ${value.length} bytes exceeds the ${MAX_RECORD_BYTES} byte limit`);
  }
  const type = lookup(frameSchemaId(value));
  return parsePosition(type.decode(value.subarray(FRAME_HEADER_BYTES)), bounds);
}

/** The producer's codec: positions framed with the id the registry gave `type`'s schema. */
export function avroCodec(schemaId: number, type: PositionAvroType): PositionCodec {
  const lookup: WriterLookup = (id) => {
    if (id !== schemaId) throw new DecodeError(`unknown schema id ${id}`);
    return type;
  };
  return {
    name: 'avro',
    contentType: AVRO_CONTENT_TYPE,
    encode: (position) => frame(schemaId, type.encode(position)),
    decode(value, bounds) {
      if (value === null || value.length === 0) throw new DecodeError('empty record value');
      return decodeAvroPosition(value, lookup, bounds);
    },
  };
}
