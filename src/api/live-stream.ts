import { inBox, type BoundingBox } from '../domain/geo.js';
import { isRetriable, SinkError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { LatestStateTable, StateChange } from '../state/latest-state-table.js';
import type { SseConnection } from './sse-connection.js';
import { encodeEvent } from './sse-connection.js';

/** What one client wants to see. */
export interface StreamFilter {
  vehicleId?: string;
  bbox?: BoundingBox;
}

export function matches(filter: StreamFilter, change: StateChange): boolean {
  if (filter.vehicleId !== undefined && change.vehicleId !== filter.vehicleId) return false;
  if (filter.bbox && !inBox(change.lat, change.lon, filter.bbox)) return false;
  return true;
}

interface Client {
  connection: SseConnection;
  filter: StreamFilter;
}

/**
 * Fans the table's change feed out to every SSE client through ONE subscription (taken when the
 * first client arrives), encoding each change once whatever the number of clients.
 */
export class LiveStream {
  private readonly clients = new Set<Client>();
  private subscription: Promise<() => Promise<void>> | null = null;

  constructor(
    private readonly table: LatestStateTable,
    /** Turns a change into the JSON clients receive. */
    private readonly view: (change: StateChange) => unknown,
    private readonly logger: Logger,
    private readonly onEvent: (clients: number) => void = () => undefined,
  ) {}

  get size(): number {
    return this.clients.size;
  }

  /** Adds a client once the change feed is live; the returned function removes it. */
  async add(connection: SseConnection, filter: StreamFilter): Promise<() => void> {
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
    await unsubscribe?.().catch((err: unknown) => this.logger.warn({ err }, 'unsubscribe failed'));
  }

  private subscribed(): Promise<() => Promise<void>> {
    this.subscription ??= this.table
      .subscribe((change) => this.dispatch(change))
      .catch((err: unknown) => {
        this.subscription = null;
        throw isRetriable(err)
          ? err
          : new SinkError('state-table', 'cannot subscribe to live changes', { cause: err, retriable: true });
      });
    return this.subscription;
  }

  private dispatch(change: StateChange): void {
    let frame: string | undefined;
    let delivered = 0;
    for (const client of this.clients) {
      if (!matches(client.filter, change)) continue;
      frame ??= encodeEvent('position', this.view(change));
      client.connection.push(change.vehicleId, frame);
      delivered++;
    }
    if (delivered > 0) this.onEvent(delivered);
  }
}
