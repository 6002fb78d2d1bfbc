import { DecodeError } from '../errors.js';
import { parsePosition, type Position, type TimeBounds } from './position.js';

/** Largest encoded position accepted; anything bigger is dead-lettered unread. */
export const MAX_RECORD_BYTES = 16 * 1024;

/** `content-type` header of Confluent-framed Avro records (informational: the magic byte decides). */
export const AVRO_CONTENT_TYPE = 'avro/binary';

/**
 * How positions become Kafka record values and back: JSON (`jsonCodec`) or Confluent-framed Avro
 * (`avroCodec` in avro-codec.ts). The processor picks Avro by a record's first byte (see
 * confluent-frame.ts), anything else by its `content-type` header.
 */
export interface PositionCodec {
  readonly name: string;
  /** Value of the `content-type` header written with every record. */
  readonly contentType: string;
  encode(position: Position): Buffer;
  /** Decodes and validates; throws DecodeError (not a position) or ValidationError (bad values). */
  decode(value: Buffer | null, bounds?: TimeBounds): Position;
}

export const jsonCodec: PositionCodec = {
  name: 'json',
  contentType: 'application/json',
  encode(position) {
    return Buffer.from(JSON.stringify(position));
  },
  decode(value, bounds) {
    if (value === null || value.length === 0)
      throw new DecodeError('empty record value (tombstone or missing payload)');
    if (value.length > MAX_RECORD_BYTES) {
      throw new DecodeError(
        `record value of ${value.length} bytes exceeds the ${MAX_RECORD_BYTES} byte limit`,
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(value.toString('utf8'));
    } catch (err) {
      throw new DecodeError(`value is not valid JSON: ${(err as Error).message}`);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new DecodeError('value is not a JSON object');
    }
    return parsePosition(parsed, bounds);
  },
};

/** Reached only by values that do not start with the magic byte: their framing is broken. */
const unframedAvro: PositionCodec = {
  name: 'avro',
  contentType: AVRO_CONTENT_TYPE,
  encode() {
    throw new Error('unframedAvro only decodes (use avroCodec)');
  },
  decode(value) {
    throw new DecodeError(
      `content-type ${AVRO_CONTENT_TYPE} but the value ${value === null || value.length === 0 ? 'is empty' : `starts with byte ${value[0]}`}, not the Confluent magic byte 0`,
    );
  },
};

const codecs: Record<string, PositionCodec> = {
  [jsonCodec.contentType]: jsonCodec,
  [AVRO_CONTENT_TYPE]: unframedAvro,
};

/** The codec for a record's content-type header; JSON when the header is absent. */
export function codecFor(contentType: string | undefined): PositionCodec {
  if (contentType === undefined) return jsonCodec;
  const codec = codecs[contentType];
  if (!codec) throw new DecodeError(`unsupported content-type '${contentType}'`);
  return codec;
}
