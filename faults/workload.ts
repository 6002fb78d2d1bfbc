import type { Position } from '../src/domain/position.js';

/**
 * A deterministic fleet workload. Position number `seq` belongs to vehicle `seq % vehicles` and
 * round `floor(seq / vehicles)`; its event time is unique per vehicle, so (vehicleId, ts) names it
 * and the checker can map every row found in the warehouse back to the position it came from.
 *
 * A few positions arrive late (their event time lies three rounds back): they test that the
 * latest-state table never moves a vehicle backwards.
 */
export interface WorkloadPlan {
  /** Positions in the run. */
  total: number;
  vehicles: number;
  /** Event time of round 0, epoch ms. */
  t0: number;
  /** Event-time step between two rounds of one vehicle (ms); half of it separates late slots. */
  stepMs: number;
  /** About one position in `lateEvery` arrives late; 0 = none. @default 50 */
  lateEvery: number;
  /** Vehicle id prefix (ids are `<prefix><index>`). */
  prefix: string;
}

export function workloadPlan(
  options: Partial<WorkloadPlan> & Pick<WorkloadPlan, 'total' | 'vehicles'>,
): WorkloadPlan {
  const stepMs = options.stepMs ?? 1000;
  const rounds = Math.ceil(options.total / options.vehicles);
  // Every event time must lie in the accepted window (7 days back .. 5 minutes ahead): the run
  // ends one minute in the past.
  const t0 = options.t0 ?? Date.now() - 60_000 - 2 * (rounds + 1) * stepMs;
  return { lateEvery: 50, prefix: 'veh-', ...options, stepMs, t0 };
}

const LATE_ROUNDS = 3;

/** Cheap integer hash so the late positions are spread without a random generator. */
function mix(n: number): number {
  let x = Math.imul(n ^ (n >>> 16), 0x45d9f3b);
  x = Math.imul(x ^ (x >>> 16), 0x45d9f3b);
  return (x ^ (x >>> 16)) >>> 0;
}

export function isLate(plan: WorkloadPlan, seq: number): boolean {
  const round = Math.floor(seq / plan.vehicles);
  return plan.lateEvery > 0 && round >= LATE_ROUNDS && mix(seq) % plan.lateEvery === 0;
}

export function vehicleId(plan: WorkloadPlan, index: number): string {
  return `${plan.prefix}${String(index).padStart(5, '0')}`;
}

export function vehicleIndex(plan: WorkloadPlan, id: string): number | undefined {
  if (!id.startsWith(plan.prefix)) return undefined;
  const digits = id.slice(plan.prefix.length);
  if (!/^\d+$/.test(digits)) return undefined;
  const index = Number(digits);
  return index < plan.vehicles ? index : undefined;
}

/** Event time of position `seq`: even slots in order, odd slots for the late ones. */
export function eventTime(plan: WorkloadPlan, seq: number): number {
  const round = Math.floor(seq / plan.vehicles);
  const slot = isLate(plan, seq) ? 2 * (round - LATE_ROUNDS) + 1 : 2 * round;
  return plan.t0 + slot * plan.stepMs;
}

/** The inverse of (vehicle, eventTime): which position this is, or undefined if none of ours. */
export function seqOf(plan: WorkloadPlan, id: string, ts: number): number | undefined {
  const index = vehicleIndex(plan, id);
  if (index === undefined) return undefined;
  const slot = (ts - plan.t0) / plan.stepMs;
  if (!Number.isInteger(slot) || slot < 0) return undefined;
  const late = slot % 2 === 1;
  const round = late ? (slot - 1) / 2 + LATE_ROUNDS : slot / 2;
  const seq = round * plan.vehicles + index;
  if (seq >= plan.total || isLate(plan, seq) !== late) return undefined;
  return seq;
}

export function positionAt(plan: WorkloadPlan, seq: number): Position {
  const index = seq % plan.vehicles;
  const round = Math.floor(seq / plan.vehicles);
  const angle = index * 0.7 + round * 0.01;
  return {
    vehicleId: vehicleId(plan, index),
    ts: eventTime(plan, seq),
    lat: round6(52.52 + 0.08 * Math.sin(angle) + (index % 10) * 0.01),
    lon: round6(13.405 + 0.12 * Math.cos(angle) - (index % 7) * 0.01),
    speed: (seq * 7) % 90,
    heading: (index * 37 + round) % 360,
    battery: 100 - (round % 100),
  };
}

const round6 = (x: number) => Math.round(x * 1e6) / 1e6;

/** Average encoded size of a plan's Kafka records (JSON value + key), in bytes. */
export function recordBytes(plan: WorkloadPlan): number {
  const n = Math.min(100, plan.total);
  let sum = 0;
  for (let seq = 0; seq < n; seq++) {
    const p = positionAt(plan, seq);
    sum += Buffer.byteLength(JSON.stringify(p)) + p.vehicleId.length;
  }
  return n === 0 ? 0 : sum / n;
}
