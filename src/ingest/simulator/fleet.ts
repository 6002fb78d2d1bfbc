import type { BoundingBox } from '../../domain/geo.js';
import type { Position } from '../../domain/position.js';
import { LocalProjection } from './area.js';
import { Prng } from './prng.js';
import { scenarioReport, type Scenario } from './scenario.js';
import { steadyProfile, type TrafficProfile } from './profile.js';
import { StreetGrid } from './street-grid.js';
import { SimVehicle } from './vehicle.js';

export interface FleetOptions {
  seed: number;
  vehicles: number;
  area: BoundingBox;
  /** Report interval of a driving vehicle, ms. */
  intervalMs: number;
  /** Simulated start, epoch ms (the first reports fall within one interval after it). */
  startMs: number;
  /** @default steadyProfile */
  profile?: TrafficProfile;
  /** Heartbeat interval of a parked vehicle, ms. @default max(12 x intervalMs, 60 s) */
  parkedIntervalMs?: number;
  /** Vehicle ids are `<prefix><index, 5 digits>`. @default 'sim-' */
  idPrefix?: string;
  /** Speeders and silent vehicles (`--scenario`). @default none */
  scenario?: Scenario;
}

const STREAM_GRID = 0x7fffffff;

/**
 * A fleet of simulated vehicles and their report schedule: a pure function of the options and
 * the times asked about. `advanceTo(t)` returns every report due up to `t` in (time, vehicle)
 * order, so the same seed gives the same positions however the caller's clock ticks.
 */
export class Fleet {
  readonly vehicles: readonly SimVehicle[];
  private readonly threshold: number[];
  private readonly heap: number[] = [];
  private readonly due: number[];
  private readonly driving: boolean[];
  private readonly profile: TrafficProfile;
  private readonly parkedIntervalMs: number;
  private active = 0;

  constructor(private readonly options: FleetOptions) {
    if (!Number.isInteger(options.vehicles) || options.vehicles < 1)
      throw new RangeError('vehicles must be >= 1');
    if (!(options.intervalMs >= 1)) throw new RangeError('intervalMs must be >= 1');
    const projection = new LocalProjection(options.area);
    const grid = new StreetGrid(projection.width, projection.height, Prng.stream(options.seed, STREAM_GRID));
    const prefix = options.idPrefix ?? 'sim-';
    const vehicles: SimVehicle[] = [];
    this.threshold = [];
    this.due = [];
    this.driving = new Array<boolean>(options.vehicles).fill(false);
    for (let k = 0; k < options.vehicles; k++) {
      const rng = Prng.stream(options.seed, k);
      // Drawn first, so they do not depend on the motion model's use of the stream.
      this.threshold.push(rng.next());
      this.due.push(options.startMs + Math.floor(rng.next() * options.intervalMs));
      vehicles.push(
        new SimVehicle(`${prefix}${String(k).padStart(5, '0')}`, rng, grid, projection, options.startMs),
      );
      this.push(k);
    }
    this.vehicles = vehicles;
    this.profile = options.profile ?? steadyProfile;
    this.parkedIntervalMs = options.parkedIntervalMs ?? Math.max(12 * options.intervalMs, 60_000);
  }

  /** Vehicles that were driving (not parked) at their last report. */
  get activeCount(): number {
    return this.active;
  }

  /** Time of the next report, epoch ms. */
  get nextDue(): number {
    return this.due[this.heap[0]!]!;
  }

  /** Every report due at or before `t`, oldest first (at most `max`; the rest stay due). */
  advanceTo(t: number, max = Number.POSITIVE_INFINITY): Position[] {
    const out: Position[] = [];
    while (out.length < max && this.nextDue <= t) {
      const k = this.heap[0]!;
      const at = this.due[k]!;
      const active = this.threshold[k]! < this.profile.activity(at);
      const vehicle = this.vehicles[k]!;
      const report = vehicle.reportAt(at, { active, speedFactor: this.profile.speedFactor(at) });
      const sent = this.options.scenario
        ? scenarioReport(this.options.scenario, k, this.options.startMs, report)
        : report;
      if (sent) out.push(sent);
      // A vehicle told to park keeps its rate until it has stopped.
      const driving = active || vehicle.moving;
      if (driving !== this.driving[k]) {
        this.driving[k] = driving;
        this.active += driving ? 1 : -1;
      }
      this.due[k] = at + (driving ? this.options.intervalMs : this.parkedIntervalMs);
      this.siftDown(0);
    }
    return out;
  }

  private before(a: number, b: number): boolean {
    const da = this.due[a]!;
    const db = this.due[b]!;
    return da < db || (da === db && a < b);
  }

  private push(k: number): void {
    const h = this.heap;
    h.push(k);
    for (let c = h.length - 1; c > 0;) {
      const p = (c - 1) >> 1;
      if (!this.before(h[c]!, h[p]!)) break;
      [h[c], h[p]] = [h[p]!, h[c]!];
      c = p;
    }
  }

  private siftDown(start: number): void {
    const h = this.heap;
    for (let p = start; ;) {
      const l = 2 * p + 1;
      const r = l + 1;
      let m = p;
      if (l < h.length && this.before(h[l]!, h[m]!)) m = l;
      if (r < h.length && this.before(h[r]!, h[m]!)) m = r;
      if (m === p) return;
      [h[p], h[m]] = [h[m]!, h[p]!];
      p = m;
    }
  }
}
