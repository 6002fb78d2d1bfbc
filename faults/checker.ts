import { Outcome, type AckLedger } from './ledger.js';
import { seqOf, type WorkloadPlan } from './workload.js';

/** One row found in the warehouse: which position, and from which Kafka record. */
export interface LandedRow {
  vehicleId: string;
  ts: number;
  partition: number;
  offset: string;
}

/** The Jepsen-style comparison of acknowledged writes with what landed. */
export interface WarehouseVerdict {
  /** Rows of the scenario's topic in the warehouse. */
  rows: number;
  /** Distinct positions of the plan among them. */
  landed: number;
  /** Acknowledged positions with no row. */
  lost: number;
  /** Rows beyond the first of one position (any cause). */
  duplicated: number;
  /** Rows sharing a (partition, offset) with another row: the sink's idempotence failed. */
  duplicateOffsets: number;
  /** Publishes that failed yet landed (indeterminate writes that took effect; not an error). */
  unacknowledgedLanded: number;
  /** Rows that are no position of the plan at all (hostile input that got through, ...). */
  foreign: number;
  /** A few lost sequence numbers, for the log. */
  lostSample: number[];
}

export function checkWarehouse(
  plan: WorkloadPlan,
  ledger: AckLedger,
  rows: Iterable<LandedRow>,
): WarehouseVerdict {
  const copies = new Uint32Array(plan.total);
  const offsets = new Map<number, Set<number>>();
  let count = 0;
  let foreign = 0;
  let duplicateOffsets = 0;
  for (const row of rows) {
    count++;
    let seen = offsets.get(row.partition);
    if (!seen) offsets.set(row.partition, (seen = new Set()));
    const offset = Number(row.offset);
    if (seen.has(offset)) duplicateOffsets++;
    else seen.add(offset);
    const seq = seqOf(plan, row.vehicleId, row.ts);
    if (seq === undefined) foreign++;
    else copies[seq]!++;
  }
  let landed = 0;
  let lost = 0;
  let duplicated = 0;
  let unacknowledgedLanded = 0;
  const lostSample: number[] = [];
  for (let seq = 0; seq < plan.total; seq++) {
    const n = copies[seq]!;
    if (n > 0) {
      landed++;
      duplicated += n - 1;
      if (ledger.outcome(seq) !== Outcome.acknowledged) unacknowledgedLanded++;
    } else if (ledger.isAcknowledged(seq)) {
      lost++;
      if (lostSample.length < 10) lostSample.push(seq);
    }
  }
  return {
    rows: count,
    landed,
    lost,
    duplicated,
    duplicateOffsets,
    unacknowledgedLanded,
    foreign,
    lostSample,
  };
}

/** Where a dead letter came from and why, as read back from the DLQ topic. */
export interface DeadLetterEntry {
  partition: number;
  offset: string;
  reason: string;
}

export interface DeadLetterVerdict {
  expected: number;
  found: number;
  /** Bad records with no dead letter. */
  missing: number;
  /** Dead letters of records that were valid (or not ours). */
  unexpected: number;
  withoutReason: number;
  /** Dead letters beyond the first for one record. */
  repeated: number;
  sample: string[];
}

/** Every bad record (by source partition:offset → case name) must be dead-lettered once, with a reason. */
export function checkDeadLetters(
  expected: ReadonlyMap<string, string>,
  letters: Iterable<DeadLetterEntry>,
): DeadLetterVerdict {
  const seen = new Map<string, number>();
  let found = 0;
  let unexpected = 0;
  let withoutReason = 0;
  const sample: string[] = [];
  for (const letter of letters) {
    found++;
    const key = `${letter.partition}:${letter.offset}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
    if (!expected.has(key)) {
      unexpected++;
      if (sample.length < 5) sample.push(`unexpected dead letter ${key}: ${letter.reason}`);
    }
    if (letter.reason.trim() === '') withoutReason++;
  }
  let missing = 0;
  let repeated = 0;
  for (const [key, name] of expected) {
    const n = seen.get(key) ?? 0;
    if (n === 0) {
      missing++;
      if (sample.length < 5) sample.push(`no dead letter for ${name} (${key})`);
    } else repeated += n - 1;
  }
  return { expected: expected.size, found, missing, unexpected, withoutReason, repeated, sample };
}
