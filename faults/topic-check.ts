import type { DeadLetterEntry, LandedRow } from './checker.js';
import { Outcome, type AckLedger } from './ledger.js';
import type { TopicRecord } from './topic.js';
import { seqOf, type WorkloadPlan } from './workload.js';

/** The warehouse and the DLQ against the topic itself, record by record (partition:offset). */
export interface CoverageVerdict {
  /** Records on the topic, valid and invalid. */
  records: number;
  valid: number;
  invalid: number;
  /** Valid records with no warehouse row. */
  missing: number;
  /**
   * Valid records with no row of their own whose position (vehicle id, event time) is stored from
   * another offset: a device retry landing twice, stored once by design (the warehouse's position key).
   */
  positionRepeats: number;
  /** Warehouse rows beyond the first of one record. */
  repeated: number;
  /** Rows whose partition:offset holds no valid record, or another vehicle / event time. */
  strayRows: number;
  /** Invalid records with no dead letter. */
  undeadLettered: number;
  /** Dead letters beyond the first of one invalid record (the DLQ is at-least-once). */
  repeatedLetters: number;
  /** Dead letters of valid records (or of offsets that hold nothing). */
  wrongLetters: number;
  /** Positions whose publish reported failure but that are on the topic (checked like the rest). */
  failedButLanded: number;
  /** Acknowledged positions that are not on the topic at all: Kafka lost an acknowledged write. */
  ackedNotOnTopic: number;
  ok: boolean;
  sample: string[];
}

const key = (partition: number, offset: string) => `${partition}:${offset}`;

/**
 * Every valid record on the topic must be in the warehouse exactly once and every invalid one in
 * the DLQ; with a workload `plan` and its `ledger`, every acknowledged position must be on the
 * topic, and positions whose publish failed yet landed are counted.
 */
export function checkTopicCoverage(
  records: readonly TopicRecord[],
  rows: Iterable<LandedRow>,
  letters: Iterable<DeadLetterEntry>,
  workload?: { plan: WorkloadPlan; ledger: AckLedger },
): CoverageVerdict {
  const rowsAt = new Map<string, LandedRow[]>();
  for (const row of rows) {
    const k = key(row.partition, row.offset);
    const list = rowsAt.get(k);
    if (list) list.push(row);
    else rowsAt.set(k, [row]);
  }
  const positionKey = (vehicleId: string, ts: number) => `${vehicleId}\u0000${ts}`;
  const storedPositions = new Set<string>();
  for (const list of rowsAt.values())
    for (const row of list) storedPositions.add(positionKey(row.vehicleId, row.ts));
  const lettersAt = new Map<string, number>();
  for (const l of letters)
    lettersAt.set(key(l.partition, l.offset), (lettersAt.get(key(l.partition, l.offset)) ?? 0) + 1);

  const v = {
    records: records.length,
    valid: 0,
    invalid: 0,
    missing: 0,
    positionRepeats: 0,
    repeated: 0,
    strayRows: 0,
    undeadLettered: 0,
    repeatedLetters: 0,
    wrongLetters: 0,
    failedButLanded: 0,
    ackedNotOnTopic: 0,
  };
  const sample: string[] = [];
  const note = (line: string) => sample.length < 8 && sample.push(line);
  const onTopic = workload ? new Uint8Array(workload.plan.total) : undefined;
  for (const r of records) {
    const k = key(r.partition, r.offset);
    const found = rowsAt.get(k) ?? [];
    rowsAt.delete(k);
    const letterCount = lettersAt.get(k) ?? 0;
    lettersAt.delete(k);
    if (r.position === undefined) {
      v.invalid++;
      if (letterCount === 0) {
        v.undeadLettered++;
        note(`invalid record ${k} has no dead letter (${r.invalid})`);
      } else v.repeatedLetters += letterCount - 1;
      if (found.length > 0) {
        v.strayRows += found.length;
        note(`invalid record ${k} is in the warehouse (${r.invalid})`);
      }
      continue;
    }
    v.valid++;
    const p = r.position;
    const name = `${k} (${p.vehicleId} @ ${new Date(p.ts).toISOString()})`;
    if (letterCount > 0) {
      v.wrongLetters += letterCount;
      note(`valid record ${name} was dead-lettered`);
    }
    const same = found.filter((row) => row.vehicleId === p.vehicleId && row.ts === p.ts);
    v.strayRows += found.length - same.length;
    if (same.length === 0 && storedPositions.has(positionKey(p.vehicleId, p.ts))) {
      v.positionRepeats++;
    } else if (same.length === 0) {
      v.missing++;
      note(
        `topic record ${name} has no warehouse row${found.length ? ' (its offset holds another position)' : ''}`,
      );
    } else if (same.length > 1) {
      v.repeated += same.length - 1;
      note(`topic record ${name} is in the warehouse ${same.length} times`);
    }
    if (workload && onTopic) {
      const seq = seqOf(workload.plan, p.vehicleId, p.ts);
      if (seq === undefined) continue;
      onTopic[seq] = 1;
      if (workload.ledger.outcome(seq) === Outcome.failed) v.failedButLanded++;
    }
  }
  for (const [k, list] of rowsAt) {
    v.strayRows += list.length;
    note(`warehouse row ${k} (${list[0]!.vehicleId}) is no record of the topic`);
  }
  for (const [k, n] of lettersAt) {
    v.wrongLetters += n;
    note(`dead letter for ${k}, which is no record of the topic`);
  }
  if (workload && onTopic) {
    for (let seq = 0; seq < workload.plan.total; seq++) {
      if (onTopic[seq] || !workload.ledger.isAcknowledged(seq)) continue;
      v.ackedNotOnTopic++;
      note(`acknowledged position seq ${seq} is not on the topic`);
    }
  }
  const ok =
    v.missing === 0 &&
    v.repeated === 0 &&
    v.strayRows === 0 &&
    v.undeadLettered === 0 &&
    v.wrongLetters === 0 &&
    v.ackedNotOnTopic === 0;
  return { ...v, ok, sample };
}

/** One line for the report. */
export function describeCoverage(v: CoverageVerdict): string {
  return (
    `${v.records} records on the topic (${v.valid} valid, ${v.invalid} invalid): ` +
    `missing from the warehouse ${v.missing}, repeated positions stored once ${v.positionRepeats}, in it more than once ${v.repeated}, stray rows ${v.strayRows}, ` +
    `invalid without dead letter ${v.undeadLettered}, wrong dead letters ${v.wrongLetters}, repeated dead letters ${v.repeatedLetters}, ` +
    `acknowledged but not on the topic ${v.ackedNotOnTopic}, publish failed but landed ${v.failedButLanded}` +
    (v.sample.length ? `; ${v.sample.join('; ')}` : '')
  );
}
