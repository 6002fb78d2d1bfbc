import type { Writable } from 'node:stream';

export interface SseConnectionOptions {
  /** The HTTP response (after the headers were written). */
  out: Writable;
  /**
   * Most distinct vehicles waiting for a slow client. Beyond this the oldest pending update is
   * dropped (counted in `dropped`). @default 10_000
   */
  maxPending?: number;
  /** Runs a flush soon; updates arriving before it runs go out in one write. @default setImmediate */
  schedule?: (flush: () => void) => void;
  /** Told about every coalesced or dropped update (metrics). */
  onLoss?: (kind: 'coalesced' | 'dropped') => void;
}

/**
 * One Server-Sent Events client, with backpressure. Updates wait in a map keyed by vehicle id, so
 * a client that reads slowly gets the latest position of every vehicle rather than an unbounded
 * backlog: while the socket buffer is full (`write()` returned false) newer updates of a vehicle
 * replace older ones (coalesced) and nothing is written until `drain`.
 */
export class SseConnection {
  /** Updates replaced by a newer one of the same vehicle before being sent. */
  coalesced = 0;
  /** Updates dropped because more than `maxPending` vehicles were waiting. */
  dropped = 0;
  /** Events written to the socket. */
  sent = 0;

  private readonly pending = new Map<string, string>();
  private readonly maxPending: number;
  private readonly schedule: (flush: () => void) => void;
  private scheduled = false;
  private blocked = false;
  private closed = false;

  constructor(private readonly options: SseConnectionOptions) {
    this.maxPending = options.maxPending ?? 10_000;
    this.schedule = options.schedule ?? ((fn) => void setImmediate(fn));
  }

  /** Whether the socket buffer is full and updates are being coalesced. */
  get isBlocked(): boolean {
    return this.blocked;
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /** Queues one encoded event (`frame`) for `key`; a newer frame of the same key replaces it. */
  push(key: string, frame: string): void {
    if (this.closed) return;
    if (this.pending.delete(key)) {
      this.coalesced++;
      this.options.onLoss?.('coalesced');
    }
    this.pending.set(key, frame);
    if (this.pending.size > this.maxPending) {
      const oldest = this.pending.keys().next().value as string;
      this.pending.delete(oldest);
      this.dropped++;
      this.options.onLoss?.('dropped');
    }
    this.scheduleFlush();
  }

  /** Writes an SSE comment (heartbeat) unless the client is already behind. */
  comment(text: string): void {
    if (this.closed || this.blocked) return;
    this.write(`: ${text}\n\n`);
  }

  /** Writes an event right away (used for the greeting). */
  event(name: string, data: unknown): void {
    if (!this.closed) this.write(encodeEvent(name, data));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pending.clear();
    this.options.out.end();
  }

  private scheduleFlush(): void {
    if (this.scheduled || this.blocked || this.closed) return;
    this.scheduled = true;
    this.schedule(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.blocked || this.closed || this.pending.size === 0) return;
    let chunk = '';
    for (const frame of this.pending.values()) chunk += frame;
    this.sent += this.pending.size;
    this.pending.clear();
    this.write(chunk);
  }

  private write(chunk: string): void {
    if (this.options.out.write(chunk)) return;
    this.blocked = true;
    this.options.out.once('drain', () => {
      this.blocked = false;
      this.scheduleFlush();
    });
  }
}

/** One SSE event: `event: <name>` and its JSON on a single `data:` line. */
export function encodeEvent(name: string, data: unknown): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}
