import type { Registry } from 'prom-client';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { counter, defaultRegistry, gauge } from '../metrics.js';
import { retry, type RetryOptions } from '../retry.js';

/** How one delivery ended: the receiver took it, it was given up, or the queue was closed first. */
export type DeliveryOutcome = 'delivered' | 'failed' | 'aborted';

export interface WebhookQueueOptions<T> {
  /** One attempt to deliver `item`; a retriable error is retried. */
  deliver: (item: T) => Promise<void>;
  /** Items queued or being delivered, at most. */
  capacity: number;
  /** Deliveries at once. @default 4 */
  concurrency?: number;
  /** Backoff between attempts (the shared retry module); `retries` before giving up. */
  retry: Pick<RetryOptions, 'retries' | 'initialMs' | 'maxMs' | 'sleep'>;
  /** Names an item in logs (the event id). */
  describe: (item: T) => Record<string, unknown>;
  logger: Logger;
  /** @default defaultRegistry */
  registry?: Registry;
}

interface Entry<T> {
  item: T;
  resolve: (outcome: DeliveryOutcome) => void;
}

/**
 * A bounded queue of webhook deliveries, each retried with exponential backoff until delivered or
 * given up. `offer` waits while the queue is full: the caller (a Kafka consumer) stops reading
 * instead of the queue growing or dropping, and each wait is counted and logged.
 */
export class WebhookQueue<T> {
  private readonly waiting: Entry<T>[] = [];
  private readonly roomWaiters: (() => void)[] = [];
  private active = 0;
  private readonly aborter = new AbortController();
  private readonly metrics;

  constructor(private readonly options: WebhookQueueOptions<T>) {
    const registry = options.registry ?? defaultRegistry;
    this.metrics = {
      deliveries: counter(registry, {
        name: 'fleet_webhook_deliveries_total',
        help: 'Webhook deliveries by outcome: delivered, failed (given up after the retries or refused with a 4xx).',
        labelNames: ['outcome'] as const,
      }),
      retries: counter(registry, { name: 'fleet_webhook_retries_total', help: 'Webhook attempts retried.' }),
      full: counter(registry, {
        name: 'fleet_webhook_queue_full_total',
        help: 'Times the webhook queue was full and reading events waited for room.',
      }),
      depth: gauge(registry, {
        name: 'fleet_webhook_queue_depth',
        help: 'Webhook deliveries queued or running.',
      }),
    };
  }

  get size(): number {
    return this.waiting.length + this.active;
  }

  /**
   * Queues `item` once there is room; resolves (after any wait) with `done`, its outcome. The
   * wait is the backpressure, `done` the delivery.
   */
  async offer(item: T): Promise<{ done: Promise<DeliveryOutcome> }> {
    if (this.size >= this.options.capacity) {
      this.metrics.full.inc();
      this.options.logger.warn(
        { capacity: this.options.capacity },
        'webhook queue full: reading events waits for deliveries',
      );
      while (this.size >= this.options.capacity && !this.aborter.signal.aborted)
        await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
    }
    if (this.aborter.signal.aborted) return { done: Promise.resolve('aborted') };
    const done = new Promise<DeliveryOutcome>((resolve) => this.waiting.push({ item, resolve }));
    this.pump();
    return { done };
  }

  /** Stops retrying; what is not delivered yet ends `aborted` (not committed: delivered again later). */
  close(): void {
    this.aborter.abort(new Error('webhook queue closed'));
    for (const e of this.waiting.splice(0)) e.resolve('aborted');
    for (const wake of this.roomWaiters.splice(0)) wake();
  }

  private pump(): void {
    const concurrency = this.options.concurrency ?? 4;
    while (this.active < concurrency && this.waiting.length > 0) {
      const entry = this.waiting.shift()!;
      this.active++;
      this.metrics.depth.set(this.size);
      void this.run(entry.item).then((outcome) => {
        this.active--;
        this.metrics.depth.set(this.size);
        entry.resolve(outcome);
        this.roomWaiters.shift()?.();
        this.pump();
      });
    }
  }

  /** Never rejects: every end is an outcome. */
  private async run(item: T): Promise<DeliveryOutcome> {
    const signal = this.aborter.signal;
    try {
      await retry(() => this.options.deliver(item), {
        ...this.options.retry,
        signal,
        onRetry: ({ attempt, delayMs, error }) => {
          this.metrics.retries.inc();
          this.options.logger.debug(
            { ...this.options.describe(item), attempt, delayMs, err: errorMessage(error) },
            'webhook delivery retried',
          );
        },
      });
      this.metrics.deliveries.inc({ outcome: 'delivered' });
      return 'delivered';
    } catch (err) {
      if (signal.aborted) return 'aborted';
      this.metrics.deliveries.inc({ outcome: 'failed' });
      this.options.logger.error(
        { ...this.options.describe(item), err: errorMessage(err) },
        'webhook delivery given up',
      );
      return 'failed';
    }
  }
}
