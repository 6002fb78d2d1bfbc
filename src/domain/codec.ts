import { DecodeError } from '../errors.js';
import { parsePosition, type Position, type TimeBounds } from './position.js';

/** Largest encoded position accepted; anything bigger is dead-lettered unread. */
export const MAX_RECORD_BYTES = 16 * 1024;

/**
 * How positions become Kafka record values and back. JSON today; an Avro codec would implement the
 * same interface and be chosen by the record's `content-type` header.
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

const codecs: Record<string, PositionCodec> = { [jsonCodec.contentType]: jsonCodec };

/** The codec for a record's content-type header; JSON when the header is absent. */
export function codecFor(contentType: string | undefined): PositionCodec {
  if (contentType === undefined) return jsonCodec;
  const codec = codecs[contentType];
  if (!codec) throw new DecodeError(`unsupported content-type '${contentType}'`);
  return codec;
}
