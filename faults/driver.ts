import type { Position } from '../src/domain/position.js';
import { errorMessage } from '../src/errors.js';
import { sleep as realSleep } from '../src/retry.js';
import { Outcome, type AckLedger } from './ledger.js';
import { positionAt, type WorkloadPlan } from './workload.js';

/** The producer under test: resolves only once Kafka acknowledged every position of the call. */
export interface AckingPublisher {
  publish(positions: readonly Position[]): Promise<void>;
  close(): Promise<void>;
}

/** Positions per second as a function of the time since the drive started (ms). */
export type RateProfile = (elapsedMs: number) => number;

export interface DriveOptions {
  plan: WorkloadPlan;
  publisher: AckingPublisher;
  ledger: AckLedger;
  /** First and last+1 sequence number to publish. @default 0, plan.total */
  from?: number;
  to?: number;
  /** Positions per publish call. @default 500 */
  batch?: number;
  /** Publish calls awaiting their acknowledgement at once. @default 8 */
  maxInFlight?: number;
  /** Rate limit; unset = as fast as the publisher acknowledges. */
  rate?: RateProfile;
  signal?: AbortSignal;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface DriveResult {
  published: number;
  failedCalls: number;
  lastError?: string;
  durationMs: number;
}

/**
 * Publishes the plan's positions in order and records every outcome in the ledger. A rejected
 * publish is not retried: the driver is the client, and a blind retry would create a duplicate
 * whenever the first attempt had in fact landed.
 */
export async function drive(options: DriveOptions): Promise<DriveResult> {
  const { plan, publisher, ledger, rate, signal } = options;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => realSleep(ms));
  const to = Math.min(options.to ?? plan.total, plan.total);
  const from = options.from ?? 0;
  const maxInFlight = options.maxInFlight ?? 8;
  const started = now();
  const inFlight = new Set<Promise<void>>();
  let next = from;
  let allowance = 0;
  let last = started;
  let failedCalls = 0;
  let lastError: string | undefined;

  while (next < to && !signal?.aborted) {
    if (inFlight.size >= maxInFlight) {
      await Promise.race(inFlight);
      continue;
    }
    let size = Math.min(options.batch ?? 500, to - next);
    if (rate) {
      const t = now();
      const perSecond = rate(t - started);
      allowance += (perSecond * (t - last)) / 1000;
      last = t;
      // Small batches at low rates keep the flow smooth instead of bursty.
      size = Math.max(1, Math.min(size, Math.ceil(perSecond / 20)));
      if (allowance < size) {
        await sleep(Math.max(5, Math.min(50, ((size - allowance) * 1000) / Math.max(perSecond, 1))));
        continue;
      }
      allowance -= size;
    }
    const start = next;
    const end = next + size;
    next = end;
    const positions: Position[] = [];
    for (let seq = start; seq < end; seq++) positions.push(positionAt(plan, seq));
    ledger.mark(start, end, Outcome.pending);
    const sentAt = now();
    const call = publisher.publish(positions).then(
      () => ledger.mark(start, end, Outcome.acknowledged),
      (err: unknown) => {
        failedCalls++;
        lastError = errorMessage(err);
        ledger.fail({ from: start, to: end, sentAt, failedAt: now(), error: lastError });
      },
    );
    inFlight.add(call);
    void call.finally(() => inFlight.delete(call));
  }
  await Promise.all(inFlight);
  return {
    published: next - from,
    failedCalls,
    durationMs: now() - started,
    ...(lastError ? { lastError } : {}),
  };
}
