import type { Ack } from '../stream/batch.js';
import type { Backpressure } from './backpressure.js';

/** An offset to commit: the next offset to read, i.e. last durable offset + 1. */
export interface TopicPartitionOffset {
  topic: string;
  partition: number;
  offset: string;
}

/**
 * One chunk handed downstream: a contiguous offset range of one partition. Each batch carrying it
 * holds it; when the chunk is sealed (routing done) and every hold is released, its range is durable.
 */
export class Ticket implements Ack {
  private pending = 0;
  private sealed = false;
  /** Completed: every holder released it after sealing. */
  done = false;

  constructor(
    private readonly tracker: CommitTracker,
    readonly lane: Lane,
    /** Offset to commit once this chunk and all before it are durable. */
    readonly nextOffset: string,
    readonly bytes: number,
    readonly records: number,
  ) {}

  hold(): void {
    if (this.done) throw new Error(`ticket ${this.lane.key}@${this.nextOffset} held after completion`);
    this.pending++;
  }

  release(): void {
    if (this.pending <= 0) throw new Error(`ticket ${this.lane.key}@${this.nextOffset} released too often`);
    this.pending--;
    if (this.pending === 0 && this.sealed) this.tracker.complete(this);
  }

  /** Routing is done: no new holds will come. A ticket nobody held completes at once. */
  seal(): void {
    if (this.sealed) return;
    this.sealed = true;
    if (this.pending === 0) this.tracker.complete(this);
  }
}

/** Per-partition state: tickets in offset order and the durable / committed positions. */
export interface Lane {
  readonly key: string;
  readonly topic: string;
  readonly partition: number;
  readonly queue: Ticket[];
  /** Next offset after the contiguous durable prefix; null until the first chunk completes. */
  durable: string | null;
  /** Last offset committed to Kafka. */
  committed: string | null;
  /** Offset after the last chunk opened: a chunk starting before it is a rewind. */
  expected: string | null;
}

export interface CommitTrackerOptions {
  /** Unflushed-bytes accounting the source waits on. */
  backpressure: Backpressure;
  /** Called (synchronously) whenever some partition's durable offset moves forward. */
  onDurable?: () => void;
}

/**
 * Knows which offsets are safe to commit: per partition, the end of the longest prefix of chunks
 * that every sink has made durable. Chunks may complete in any order; a later chunk that is
 * durable waits for the earlier ones.
 * A rebalance keeps the partitions this member still owns; chunks of revoked partitions still
 * release their bytes but no longer move offsets (their new owner re-reads them from the last
 * commit, and the sinks' idempotence absorbs the overlap). The same holds for a partition whose
 * reading starts again further back.
 */
export class CommitTracker {
  private lanes = new Map<string, Lane>();
  private open = 0;
  private frozen = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: CommitTrackerOptions) {}

  /**
   * Registers the next chunk of a partition; call `seal()` on it after routing it downstream.
   * A chunk that starts before the end of the previous one (the consumer went back to the last
   * commit: rebalance, seek, restart) starts the partition afresh: the older chunks then only
   * release their bytes, they can no longer move its offset.
   */
  openTicket(
    topic: string,
    partition: number,
    firstOffset: string,
    lastOffset: string,
    bytes: number,
    records = 0,
  ): Ticket {
    let lane = this.lane(topic, partition);
    const next = nextOffset(lastOffset);
    if (lane.expected !== null && BigInt(firstOffset) < BigInt(lane.expected)) {
      lane = this.newLane(topic, partition);
    }
    lane.expected = next;
    const ticket = new Ticket(this, lane, next, bytes, records);
    lane.queue.push(ticket);
    this.open++;
    this.options.backpressure.add(bytes, records);
    return ticket;
  }

  /** @internal called by Ticket. */
  complete(ticket: Ticket): void {
    ticket.done = true;
    this.open--;
    this.options.backpressure.remove(ticket.bytes, ticket.records);
    let advanced = false;
    const lane = ticket.lane;
    if (this.lanes.get(lane.key) === lane) {
      while (lane.queue.length > 0 && lane.queue[0]!.done) {
        lane.durable = lane.queue.shift()!.nextOffset;
        advanced = true;
      }
    }
    if (this.open === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
    if (advanced && !this.frozen) this.options.onDurable?.();
  }

  /** Offsets that are durable but not yet committed (empty once frozen). */
  committable(): TopicPartitionOffset[] {
    if (this.frozen) return [];
    const out: TopicPartitionOffset[] = [];
    for (const lane of this.lanes.values()) {
      if (lane.durable !== null && lane.durable !== lane.committed) {
        out.push({ topic: lane.topic, partition: lane.partition, offset: lane.durable });
      }
    }
    return out;
  }

  /** Records a successful commit (ignored for partitions reset since). */
  markCommitted(offsets: readonly TopicPartitionOffset[]): void {
    for (const o of offsets) {
      const lane = this.lanes.get(laneKey(o.topic, o.partition));
      if (lane) lane.committed = o.offset;
    }
  }

  /** Durable position of every partition of the current generation. */
  durableOffsets(): TopicPartitionOffset[] {
    const out: TopicPartitionOffset[] = [];
    for (const lane of this.lanes.values()) {
      if (lane.durable !== null)
        out.push({ topic: lane.topic, partition: lane.partition, offset: lane.durable });
    }
    return out;
  }

  /**
   * New group generation: keeps the partitions this member still owns (their chunks in flight go
   * on counting, so the source must continue reading them where it stopped: the returned offsets)
   * and forgets the others, whose chunks in flight then only release their bytes.
   */
  retain(topic: string, partitions: readonly number[]): TopicPartitionOffset[] {
    const keep = new Set(partitions.map((p) => laneKey(topic, p)));
    const resume: TopicPartitionOffset[] = [];
    for (const [key, lane] of this.lanes) {
      if (!keep.has(key)) this.lanes.delete(key);
      else if (lane.expected !== null)
        resume.push({ topic: lane.topic, partition: lane.partition, offset: lane.expected });
    }
    return resume;
  }

  /** Forgets every partition; chunks in flight only release their bytes. */
  reset(): void {
    this.lanes.clear();
  }

  /** Stops reporting anything committable (fatal error: commit nothing more). */
  freeze(): void {
    this.frozen = true;
  }

  get isFrozen(): boolean {
    return this.frozen;
  }

  /** Chunks handed downstream and not yet durable everywhere. */
  get openTickets(): number {
    return this.open;
  }

  /** Resolves when every chunk handed downstream is durable (or was given up by its generation). */
  whenIdle(): Promise<void> {
    if (this.open === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private lane(topic: string, partition: number): Lane {
    return this.lanes.get(laneKey(topic, partition)) ?? this.newLane(topic, partition);
  }

  private newLane(topic: string, partition: number): Lane {
    const key = laneKey(topic, partition);
    const lane: Lane = { key, topic, partition, queue: [], durable: null, committed: null, expected: null };
    this.lanes.set(key, lane);
    return lane;
  }
}

function laneKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

/** Kafka offsets are int64 decimal strings. */
export function nextOffset(offset: string): string {
  return (BigInt(offset) + 1n).toString();
}
