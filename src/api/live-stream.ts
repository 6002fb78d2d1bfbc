import { isRetriable, SinkError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { SseConnection } from './sse-connection.js';
import { encodeEvent } from './sse-connection.js';

/** A change feed: calls `onItem` for every new item until the returned function is called. */
export type Subscribe<T> = (onItem: (item: T) => void) => Promise<() => Promise<void>>;

export interface LiveStreamOptions<T, F> {
  /** Where items come from; subscribed once, when the first client arrives. */
  subscribe: Subscribe<T>;
  /** Names the source in the error a failed subscription gives (e.g. `state-table`). */
  source: string;
  /** The SSE event name (`position`, `vehicle_event`). */
  eventName: string;
  /** Turns an item into the JSON clients receive. */
  view: (item: T) => unknown;
  /** Whether a client with `filter` wants `item`. */
  matches: (filter: F, item: T) => boolean;
  /**
   * The backpressure key: a slow client keeps only the newest pending item per key (the vehicle
   * id coalesces positions; an event id keeps every event).
   */
  keyOf: (item: T) => string;
  logger: Logger;
  /** Told how many clients an item was queued to (metrics). */
  onEvent?: (clients: number) => void;
}

interface Client<F> {
  connection: SseConnection;
  filter: F;
}

/**
 * Fans a change feed out to every SSE client through ONE subscription (taken when the first
 * client arrives), encoding each item once whatever the number of clients.
 */
export class LiveStream<T, F> {
  private readonly clients = new Set<Client<F>>();
  private subscription: Promise<() => Promise<void>> | null = null;

  constructor(private readonly options: LiveStreamOptions<T, F>) {}

  get size(): number {
    return this.clients.size;
  }

  /** Adds a client once the change feed is live; the returned function removes it. */
  async add(connection: SseConnection, filter: F): Promise<() => void> {
    await this.subscribed();
    const client = { connection, filter };
    this.clients.add(client);
    return () => {
      this.clients.delete(client);
    };
  }

  /** Ends every client and the subscription. */
  async close(): Promise<void> {
    for (const c of this.clients) c.connection.close();
    this.clients.clear();
    const subscription = this.subscription;
    this.subscription = null;
    const unsubscribe = await subscription?.catch(() => null);
    await unsubscribe?.().catch((err: unknown) => this.options.logger.warn({ err }, 'unsubscribe failed'));
  }

  private subscribed(): Promise<() => Promise<void>> {
    this.subscription ??= this.options
      .subscribe((item) => this.dispatch(item))
      .catch((err: unknown) => {
        this.subscription = null;
        throw isRetriable(err)
          ? err
          : new SinkError(this.options.source, 'cannot subscribe to live changes', {
              cause: err,
              retriable: true,
            });
      });
    return this.subscription;
  }

  private dispatch(item: T): void {
    const { matches, eventName, view, keyOf, onEvent } = this.options;
    let frame: string | undefined;
    let delivered = 0;
    for (const client of this.clients) {
      if (!matches(client.filter, item)) continue;
      frame ??= encodeEvent(eventName, view(item));
      client.connection.push(keyOf(item), frame);
      delivered++;
    }
    if (delivered > 0) onEvent?.(delivered);
  }
}
