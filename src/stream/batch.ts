/**
 * The unit that flows through the topology: an array of items plus the acknowledgements that say
 * where they came from. Operators pass arrays, never single records, so the hot path costs one
 * RxJS emission per batch, not per record.
 */

/**
 * A reference-counted acknowledgement of one source chunk (a contiguous offset range of one
 * partition). Every batch that carries an `Ack` holds it once; whoever makes that batch durable
 * releases it once. When every holder has released it, the range is durable everywhere.
 */
export interface Ack {
  hold(): void;
  release(): void;
}

export interface Batch<T> {
  readonly items: readonly T[];
  /** Encoded size of the items in bytes (for byte-bounded windows and backpressure). */
  readonly bytes: number;
  /** One entry per hold this batch owns; the same Ack may appear more than once. */
  readonly acks: readonly Ack[];
}

/** A batch a sink has made durable; its acks are released by `commitWhenDurable`. */
export interface DurableBatch<T = unknown> {
  /** Sink name for metrics and logs: `table`, `warehouse`, `dead-letters`. */
  readonly sink: string;
  readonly batch: Batch<T>;
}

/** Concatenates batches; holds move with them (no hold/release). */
export function concatBatches<T>(batches: readonly Batch<T>[]): Batch<T> {
  if (batches.length === 1) return batches[0]!;
  const items: T[] = [];
  const acks: Ack[] = [];
  let bytes = 0;
  for (const b of batches) {
    for (const item of b.items) items.push(item);
    for (const ack of b.acks) acks.push(ack);
    bytes += b.bytes;
  }
  return { items, bytes, acks };
}

export function releaseAll(acks: readonly Ack[]): void {
  for (const ack of acks) ack.release();
}
