/**
 * What happened to every position of a workload, by sequence number: not sent yet, sent and still
 * waiting, acknowledged by Kafka (the publish resolved), or failed (the publish rejected — such a
 * write is indeterminate: it may or may not have landed, and is never counted as lost).
 */
export const Outcome = { unsent: 0, pending: 1, acknowledged: 2, failed: 3 } as const;
export type Outcome = (typeof Outcome)[keyof typeof Outcome];

import type { PublishFailure } from './windows.js';

export interface LedgerCounts {
  /** Positions handed to the publisher. */
  produced: number;
  acknowledged: number;
  failed: number;
  /** Sent, no answer yet. */
  pending: number;
}

export class AckLedger {
  private readonly outcomes: Uint8Array;
  private readonly failureLog: PublishFailure[] = [];

  constructor(readonly total: number) {
    this.outcomes = new Uint8Array(total);
  }

  /** Marks [from, to) with an outcome. */
  mark(from: number, to: number, outcome: Outcome): void {
    this.outcomes.fill(outcome, from, to);
  }

  /** Marks [from, to) failed and remembers when the call was made and when it failed. */
  fail(failure: PublishFailure): void {
    this.mark(failure.from, failure.to, Outcome.failed);
    this.failureLog.push(failure);
  }

  /** Every failed publish call, in the order they failed. */
  failures(): readonly PublishFailure[] {
    return this.failureLog;
  }

  outcome(seq: number): Outcome {
    return (this.outcomes[seq] ?? Outcome.unsent) as Outcome;
  }

  isAcknowledged(seq: number): boolean {
    return this.outcomes[seq] === Outcome.acknowledged;
  }

  counts(): LedgerCounts {
    const counts = { produced: 0, acknowledged: 0, failed: 0, pending: 0 };
    for (const o of this.outcomes) {
      if (o === Outcome.unsent) continue;
      counts.produced++;
      if (o === Outcome.acknowledged) counts.acknowledged++;
      else if (o === Outcome.failed) counts.failed++;
      else counts.pending++;
    }
    return counts;
  }
}
