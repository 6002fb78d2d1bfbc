import { map, type OperatorFunction } from 'rxjs';
import { decodeAvroPosition, type WriterLookup } from '../domain/avro-codec.js';
import { codecFor as defaultCodecFor, type PositionCodec } from '../domain/codec.js';
import { isFramed } from '../domain/confluent-frame.js';
import type { TimeBounds } from '../domain/position.js';
import type { DeadLetter, PositionRecord } from '../domain/records.js';
import { DecodeError, errorMessage, ValidationError } from '../errors.js';
import type { RawRecord, SourceChunk } from '../stream/source-chunk.js';
import type { Batch } from '../stream/batch.js';
import type { ProcessorMetrics } from '../stream/processor-metrics.js';

/** A chunk split into what decoded into valid positions and what goes to the dead-letter queue. */
export interface DecodedChunk {
  readonly valid: Batch<PositionRecord>;
  readonly invalid: Batch<DeadLetter>;
}

export interface DecodeOptions {
  /** Codec per `content-type` header. @default codecFor (JSON when absent) */
  codecFor?: (contentType: string | undefined) => PositionCodec;
  /** Accepted event-time window; `now` is taken per chunk when not given. */
  bounds?: Omit<TimeBounds, 'now'>;
  /** Clock for the event-time bounds. @default Date.now */
  now?: () => number;
  /**
   * Writer schemas of Avro (Confluent-framed) records, loaded by `loadWriterSchemas` before the
   * chunk gets here. Absent: Avro records are dead-lettered (no SCHEMA_REGISTRY_URL).
   */
  writerSchemas?: { readonly lookup: WriterLookup };
  /** Counts invalid records by error class. */
  metrics?: Pick<ProcessorMetrics, 'invalidRecords'>;
}

/** Size of a dead letter for byte-bounded windows. */
export const deadLetterBytes = (letter: DeadLetter): number =>
  (letter.value?.length ?? 0) + (letter.key?.length ?? 0);

/** Size of a valid record for byte-bounded windows. */
export const positionRecordBytes = (record: PositionRecord): number => record.bytes;

const noRegistry: WriterLookup = (id) => {
  throw new DecodeError(
    `Avro record (schema id ${id}) but no schema registry is configured (SCHEMA_REGISTRY_URL)`,
  );
};

/**
 * Decodes and validates every record of a chunk: Confluent-framed Avro when its first byte is the
 * magic byte 0 (JSON never starts so), otherwise with the codec its `content-type` header names.
 * Records that are not positions, break the schema, or whose key is not their `vehicleId` become
 * dead letters with the reason; nothing is dropped and nothing throws.
 */
export function decodePositions(options: DecodeOptions = {}): OperatorFunction<SourceChunk, DecodedChunk> {
  const codecFor = options.codecFor ?? defaultCodecFor;
  const now = options.now ?? Date.now;
  const lookup = options.writerSchemas?.lookup ?? noRegistry;
  return map((chunk) => {
    const bounds: TimeBounds = { ...options.bounds, now: now() };
    const valid: PositionRecord[] = [];
    const invalid: DeadLetter[] = [];
    let validBytes = 0;
    let invalidBytes = 0;
    for (const record of chunk.records) {
      try {
        const value = record.value;
        const position = isFramed(value)
          ? decodeAvroPosition(value, lookup, bounds)
          : codecFor(header(record, 'content-type')).decode(value, bounds);
        if (record.key !== null && record.key.toString('latin1') !== position.vehicleId) {
          throw new ValidationError([
            {
              path: 'vehicleId',
              message: `record key '${truncate(record.key.toString('utf8'))}' is not the vehicleId '${position.vehicleId}'`,
            },
          ]);
        }
        const bytes = record.value!.length;
        valid.push({
          topic: chunk.topic,
          topicId: chunk.topicId,
          partition: chunk.partition,
          offset: record.offset,
          position,
          kafkaTs: Number(record.timestamp),
          bytes,
        });
        validBytes += bytes;
      } catch (err) {
        const letter = deadLetter(chunk, record, err);
        options.metrics?.invalidRecords.inc({ error_type: letter.errorType });
        invalid.push(letter);
        invalidBytes += deadLetterBytes(letter);
      }
    }
    const acks = [chunk.ack];
    return {
      valid: { items: valid, bytes: validBytes, acks },
      invalid: { items: invalid, bytes: invalidBytes, acks },
    };
  });
}

function deadLetter(chunk: SourceChunk, record: RawRecord, err: unknown): DeadLetter {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(record.headers ?? {})) {
    if (value !== undefined)
      headers[name] = Array.isArray(value) ? value.map(String).join(',') : String(value);
  }
  return {
    topic: chunk.topic,
    partition: chunk.partition,
    offset: record.offset,
    key: record.key,
    value: record.value,
    reason: errorMessage(err),
    errorType: err instanceof Error ? err.name : 'Error',
    headers,
  };
}

function header(record: RawRecord, name: string): string | undefined {
  const value = record.headers?.[name];
  if (value === undefined) return undefined;
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : String(first);
}

function truncate(text: string, max = 64): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
