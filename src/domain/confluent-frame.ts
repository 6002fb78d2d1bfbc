import { DecodeError } from '../errors.js';

/**
 * The Confluent wire format: magic byte 0, the writer schema's registry id (4 bytes, big endian),
 * then the Avro binary body. JSON never starts with byte 0, so one byte tells the two apart.
 */
export const MAGIC_BYTE = 0;
export const FRAME_HEADER_BYTES = 5;

export function isFramed(value: Buffer | null): value is Buffer {
  return value !== null && value.length > 0 && value[0] === MAGIC_BYTE;
}

export function frame(schemaId: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + body.length);
  out[0] = MAGIC_BYTE;
  out.writeUInt32BE(schemaId, 1);
  body.copy(out, FRAME_HEADER_BYTES);
  return out;
}

/** The schema id of a framed value; throws DecodeError when the framing is broken. */
export function frameSchemaId(value: Buffer): number {
  if (value.length === 0 || value[0] !== MAGIC_BYTE) {
    throw new DecodeError(
      `not Confluent-framed: first byte ${value.length === 0 ? '(none)' : value[0]} is not the magic byte ${MAGIC_BYTE}`,
    );
  }
  if (value.length <= FRAME_HEADER_BYTES) {
    throw new DecodeError(
      `Confluent frame of ${value.length} bytes has no Avro body (header is ${FRAME_HEADER_BYTES})`,
    );
  }
  return value.readUInt32BE(1);
}
