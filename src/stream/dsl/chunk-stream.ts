import { EMPTY, filter, map, merge, share, type Observable, type OperatorFunction } from 'rxjs';
import type { Batch } from '../batch.js';
import { microBatches, type MicroBatchOptions } from '../micro-batches.js';

/**
 * The chunked face of the DSL: Kafka Streams' verbs over whole fetches instead of single records.
 * An element is a chunk (a source chunk, or a {@link Batch} of records with the acks it holds), so
 * every operator costs one RxJS emission per chunk and the per-record work stays a plain loop
 * inside the operator (the positions topology reads ~10k records per chunk; one emission each
 * would dominate its cost). Like {@link KStream}, a stream is shared: branches and several sinks
 * see each chunk once.
 */
export class ChunkStream<C, O = unknown> {
  readonly chunks$: Observable<C>;

  constructor(
    chunks$: Observable<C>,
    private readonly topology: ChunkTopology<O>,
  ) {
    this.chunks$ = chunks$.pipe(share());
  }

  /** Any operator over chunks (decoding, loading schemas): the chunked `process`. */
  process<D>(op: OperatorFunction<C, D>): ChunkStream<D, O> {
    return new ChunkStream(this.chunks$.pipe(op), this.topology);
  }
  mapValues<D>(fn: (chunk: C) => D): ChunkStream<D, O> {
    return this.process(map(fn));
  }
  filter(predicate: (chunk: C) => boolean): ChunkStream<C, O> {
    return this.process(filter(predicate));
  }
  /**
   * Kafka Streams' `split().branch(...)` for chunks: each branch takes its part of every chunk
   * (e.g. the valid records and the dead letters a decoder split it into), in one pass upstream.
   */
  split<R extends unknown[]>(
    ...parts: { [I in keyof R]: (chunk: C) => R[I] }
  ): {
    [I in keyof R]: ChunkStream<R[I], O>;
  } {
    // Array.map loses the tuple's element types; each entry is the stream of its own part.
    return parts.map((part) => this.mapValues(part)) as { [I in keyof R]: ChunkStream<R[I], O> };
  }
  /**
   * Processing-time tumbling windows over batches (count, bytes or time, whichever first): the
   * micro-batches a sink writes. Only for streams of {@link Batch}.
   */
  windowedBy<T>(this: ChunkStream<Batch<T>, O>, window: MicroBatchOptions<T>): ChunkStream<Batch<T>, O> {
    return this.process(microBatches(window));
  }
  /** Writes every chunk with `sink`; what the sink emits (durable batches) joins the topology's output. */
  to(sink: OperatorFunction<C, O>): void {
    this.topology.output(this.chunks$.pipe(sink));
  }
}

/**
 * Builds a chunked topology: `stream(chunks$)` starts it, sinks (`to`) add their outputs, `build()`
 * merges them into the one stream the runtime subscribes to (the StreamsBuilder of chunks). `O`:
 * what sinks emit (the positions topology: durable batches, whose acks the commit step releases).
 */
export class ChunkTopology<O> {
  private readonly outputs: Observable<O>[] = [];

  stream<C>(chunks$: Observable<C>): ChunkStream<C, O> {
    return new ChunkStream(chunks$, this);
  }
  /** @internal A sink's output (called by {@link ChunkStream.to}). */
  output(out$: Observable<O>): void {
    this.outputs.push(out$);
  }
  /** Every sink's output, merged; subscribing runs the topology. */
  build(): Observable<O> {
    return this.outputs.length === 0 ? EMPTY : merge(...this.outputs);
  }
}
