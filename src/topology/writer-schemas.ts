import { concatMap, from, identity, map, Observable, of, tap, type MonoTypeOperatorFunction } from 'rxjs';
import type { WriterLookup } from '../domain/avro-codec.js';
import { FRAME_HEADER_BYTES, frameSchemaId, isFramed } from '../domain/confluent-frame.js';
import { PositionAvroType } from '../domain/position-avro.js';
import { DecodeError, errorMessage, isRetriable } from '../errors.js';
import type { Logger } from '../logger.js';
import { retry, type BackoffOptions } from '../retry.js';
import type { SourceChunk } from '../stream/source-chunk.js';

/** Where writer schemas come from (the registry client; a fake in unit tests). */
export interface SchemaSource {
  schemaById(id: number): Promise<object>;
}

export interface WriterSchemasOptions {
  /** Backoff while the registry is unreachable; retried until it answers. */
  backoff?: BackoffOptions;
  /** How long an id the registry does not know stays "unknown" before it is asked again. @default 60_000 */
  unknownTtlMs?: number;
  logger?: Logger;
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Stops waiting for the registry (shutdown). */
  signal?: AbortSignal;
}

/**
 * The writer schemas of the Avro records seen so far, by registry id: each id is fetched once and
 * kept. {@link lookup} is synchronous (the decode hot path); {@link load} fetches what a chunk
 * needs first, waiting out a registry that is down (so good records are never dead-lettered for
 * it), while an id the registry answers "not found" for — or a schema avsc cannot compile —
 * becomes a reason to dead-letter the records that carry it.
 */
export class WriterSchemas {
  private readonly types = new Map<number, PositionAvroType>();
  private readonly unknown = new Map<number, { reason: string; until: number }>();
  private readonly now: () => number;

  constructor(
    private readonly source: SchemaSource,
    private readonly options: WriterSchemasOptions = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  readonly lookup: WriterLookup = (id) => {
    const type = this.types.get(id);
    if (type) return type;
    const unknown = this.unknown.get(id);
    throw new DecodeError(`schema id ${id}: ${unknown?.reason ?? 'not loaded from the registry'}`);
  };

  /** Ids of the framed values of `records` that still need a registry round trip. */
  missing(records: Iterable<{ readonly value: Buffer | null }>): number[] {
    const ids = new Set<number>();
    const now = this.now();
    for (const { value } of records) {
      if (!isFramed(value) || value.length <= FRAME_HEADER_BYTES) continue;
      const id = frameSchemaId(value);
      if (this.types.has(id)) continue;
      const unknown = this.unknown.get(id);
      if (unknown && unknown.until > now) continue;
      ids.add(id);
    }
    return [...ids];
  }

  async load(ids: readonly number[]): Promise<void> {
    for (const id of ids) {
      try {
        const schema = await retry(() => this.source.schemaById(id), {
          retries: Infinity,
          ...this.options.backoff,
          ...(this.options.sleep ? { sleep: this.options.sleep } : {}),
          ...(this.options.signal ? { signal: this.options.signal } : {}),
          onRetry: ({ attempt, error }) =>
            this.options.logger?.warn(
              { schemaId: id, attempt, err: errorMessage(error) },
              'schema registry unavailable: decoding of new schema ids waits',
            ),
        });
        this.types.set(id, new PositionAvroType(schema));
        this.unknown.delete(id);
      } catch (err) {
        if (isRetriable(err)) throw err;
        this.unknown.set(id, {
          reason: `unknown to the schema registry or not a position schema (${errorMessage(err)})`,
          until: this.now() + (this.options.unknownTtlMs ?? 60_000),
        });
      }
    }
  }
}

/**
 * Makes sure the writer schema of every Avro record of a chunk is loaded before the chunk is
 * decoded. Chunks without new ids (every chunk of a JSON topic, and nearly every one once the ids
 * are cached) pass straight through; a chunk with a new id waits for the registry, and the chunks
 * behind it wait in order (their bytes count against MAX_UNFLUSHED_BYTES, so fetching pauses).
 * The source seals a chunk's ack right after handing it on, so a chunk is held from its arrival
 * until the operators below took their own holds: a waiting chunk is not "durable" meanwhile.
 */
export function loadWriterSchemas(schemas: WriterSchemas | undefined): MonoTypeOperatorFunction<SourceChunk> {
  if (!schemas) return identity;
  return (chunks$) =>
    new Observable<SourceChunk>((subscriber) =>
      chunks$
        .pipe(
          tap((chunk) => chunk.ack.hold()),
          concatMap((chunk) => {
            const ids = schemas.missing(chunk.records);
            return ids.length === 0 ? of(chunk) : from(schemas.load(ids)).pipe(map(() => chunk));
          }),
        )
        .subscribe({
          next(chunk) {
            subscriber.next(chunk);
            chunk.ack.release();
          },
          error: (err: unknown) => subscriber.error(err),
          complete: () => subscriber.complete(),
        }),
    );
}
