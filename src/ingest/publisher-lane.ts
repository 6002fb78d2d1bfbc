import type { OutgoingMessage } from './producer-session.js';
import { MAX_RECORD_BYTES, type PositionCodec } from '../domain/codec.js';
import type { Position } from '../domain/position.js';
import { ValidationError } from '../errors.js';

/**
 * One publish call: resolves when every one of its messages is acknowledged, rejects on the first
 * failure or at its deadline. One promise per call, never one per message.
 */
export class PendingPublish {
  /** Messages of this call not yet acknowledged. */
  unacked: number;
  settled = false;
  readonly promise: Promise<void>;
  private resolveFn!: () => void;
  private rejectFn!: (err: unknown) => void;
  private cancelTimer: (() => void) | undefined;

  constructor(
    readonly size: number,
    readonly startedAt: number,
  ) {
    this.unacked = size;
    this.promise = new Promise<void>((resolve, reject) => {
      this.resolveFn = resolve;
      this.rejectFn = reject;
    });
  }

  onSettle(cancel: () => void): void {
    this.cancelTimer = cancel;
  }

  /** Counts acknowledged messages; resolves at zero. */
  ack(count: number): void {
    this.unacked -= count;
    if (this.unacked <= 0 && !this.settled) {
      this.settled = true;
      this.cancelTimer?.();
      this.resolveFn();
    }
  }

  fail(err: unknown): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.cancelTimer?.();
    this.rejectFn(err);
    return true;
  }
}

/** Messages taken from a lane for one produce request, with the calls they belong to. */
export interface LaneBatch {
  partition: number;
  messages: OutgoingMessage[];
  owners: PendingPublish[];
  bytes: number;
  /** Messages skipped because their call had already failed or timed out. */
  dropped: number;
}

/**
 * The queue of one partition. A partition has at most one produce request in flight, so its
 * records reach the log in the order `publish` was called, also across retries.
 */
export class PartitionLane {
  private messages: OutgoingMessage[] = [];
  private owners: PendingPublish[] = [];
  private sizes: number[] = [];
  private head = 0;
  bytes = 0;
  busy = false;

  constructor(readonly partition: number) {}

  get length(): number {
    return this.messages.length - this.head;
  }

  push(message: OutgoingMessage, owner: PendingPublish, bytes: number): void {
    this.messages.push(message);
    this.owners.push(owner);
    this.sizes.push(bytes);
    this.bytes += bytes;
  }

  /**
   * Takes up to `maxBytes` (at least one message) from the front, skipping messages whose call was
   * already settled (timed out or failed): those are dropped unsent.
   */
  take(maxBytes: number): LaneBatch {
    const batch: LaneBatch = { partition: this.partition, messages: [], owners: [], bytes: 0, dropped: 0 };
    let i = this.head;
    const end = this.messages.length;
    for (; i < end; i++) {
      const size = this.sizes[i]!;
      if (batch.messages.length > 0 && batch.bytes + size > maxBytes) break;
      this.bytes -= size;
      const owner = this.owners[i]!;
      if (owner.settled) {
        batch.dropped++;
        continue;
      }
      batch.messages.push(this.messages[i]!);
      batch.owners.push(owner);
      batch.bytes += size;
    }
    this.head = i;
    // Compact now and then instead of shifting arrays on every take.
    if (this.head === this.messages.length) {
      this.messages = [];
      this.owners = [];
      this.sizes = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.messages.length) {
      this.messages = this.messages.slice(this.head);
      this.owners = this.owners.slice(this.head);
      this.sizes = this.sizes.slice(this.head);
      this.head = 0;
    }
    return batch;
  }

  /** Empties the lane, returning the calls that still had messages in it. */
  drain(): PendingPublish[] {
    const owners = new Set(this.owners.slice(this.head));
    this.messages = [];
    this.owners = [];
    this.sizes = [];
    this.head = 0;
    this.bytes = 0;
    return [...owners];
  }
}

/** Acknowledges a batch's messages to their calls; returns the calls that just completed. */
export function ackOwners(owners: readonly PendingPublish[]): PendingPublish[] {
  const completed: PendingPublish[] = [];
  let run = 0;
  for (let i = 0; i < owners.length; i++) {
    run++;
    const owner = owners[i]!;
    if (i + 1 === owners.length || owners[i + 1] !== owner) {
      const wasSettled = owner.settled;
      owner.ack(run);
      if (!wasSettled && owner.settled) completed.push(owner);
      run = 0;
    }
  }
  return completed;
}

/** Fails every call of a batch still waiting; returns how many of their messages failed. */
export function failOwners(owners: Iterable<PendingPublish>, error: unknown): number {
  let failed = 0;
  for (const owner of new Set(owners)) {
    const unacked = owner.unacked;
    if (owner.fail(error)) failed += unacked;
  }
  return failed;
}

/** Encodes every position up front; throws ValidationError when one exceeds the record limit. */
export function encodeAll(codec: PositionCodec, positions: readonly Position[]): Buffer[] {
  const values = new Array<Buffer>(positions.length);
  for (let i = 0; i < positions.length; i++) {
    const value = codec.encode(positions[i]!);
    if (value.length > MAX_RECORD_BYTES) {
      throw new ValidationError([
        { path: `[${i}]`, message: `encoded position is ${value.length} bytes (max ${MAX_RECORD_BYTES})` },
      ]);
    }
    values[i] = value;
  }
  return values;
}
