import type { Position } from '../../domain/position.js';
import type { LocalProjection } from './area.js';
import type { Prng } from './prng.js';
import { SPEED_LIMIT_KMH, turn, type Direction, type StreetGrid } from './street-grid.js';

/** Acceleration and comfortable braking, m/s². */
const ACCEL = 1.8;
const BRAKE = 2.5;
/** Speed through a turn, m/s (~18 km/h). */
const TURN_SPEED = 5;
/** Longest integration step, s. */
const MAX_STEP_S = 1;

type Exit = 'straight' | 'left' | 'right' | 'back';

/** What the road around the vehicle is like right now. */
export interface Conditions {
  /** Whether the vehicle should be driving (false: park and send heartbeats). */
  active: boolean;
  /** Multiplies free-flow speeds (congestion). */
  speedFactor: number;
}

/**
 * One simulated vehicle on the street grid: continuous path along streets, accelerating and
 * braking within speed limits, stopping at red lights and for deliveries, turning at
 * intersections. Everything random comes from its own seeded stream, so its path depends only
 * on the seed, its index and the times it is asked about.
 */
export class SimVehicle {
  private i: number;
  private j: number;
  private dir: Direction;
  /** Metres from node (i, j) along dir. */
  private s: number;
  /** m/s */
  private v = 0;
  private t: number;
  private stoppedUntil = 0;
  private exit: Exit = 'straight';
  private stopAtNode = false;
  private holdAt: number | null = null;
  private holdMs = 0;
  private odometer = 0;
  private parked = false;
  private readonly driver: number;
  private readonly deliveryChance: number;
  private readonly batteryStart: number;
  private readonly startMs: number;

  constructor(
    readonly id: string,
    private readonly rng: Prng,
    private readonly grid: StreetGrid,
    private readonly projection: LocalProjection,
    startMs: number,
  ) {
    this.startMs = startMs;
    this.t = startMs;
    this.driver = rng.range(0.85, 1.05);
    this.deliveryChance = rng.chance(0.3) ? 0.12 : 0.01;
    this.batteryStart = rng.range(55, 100);
    this.i = rng.int(0, grid.xs.length - 2);
    this.j = rng.int(0, grid.ys.length - 2);
    this.dir = rng.pick([0, 1] as const);
    this.s = rng.range(0, grid.segmentLength(this.i, this.j, this.dir));
    this.planSegment();
  }

  /** Drives until `t` (epoch ms, not before the last call) and reports the position there. */
  reportAt(t: number, conditions: Conditions): Position {
    while (this.t < t) {
      const dt = Math.min(MAX_STEP_S, (t - this.t) / 1000);
      this.step(dt, conditions);
      this.t = Math.min(t, this.t + dt * 1000);
    }
    return this.position();
  }

  get moving(): boolean {
    return this.v > 0.3;
  }

  private step(dt: number, c: Conditions): void {
    if (this.t < this.stoppedUntil) {
      this.v = 0;
      return;
    }
    if (this.parked && !c.active) return;
    this.parked = false;
    const segLen = this.grid.segmentLength(this.i, this.j, this.dir);
    const limit = (SPEED_LIMIT_KMH[this.grid.streetClass(this.i, this.j, this.dir)] / 3.6) * this.driver;
    const target = c.active ? limit * c.speedFactor : 0;
    const stopAhead = this.holdAt !== null || this.stopAtNode;
    const point = this.holdAt ?? segLen;
    const vEnd = stopAhead ? 0 : this.exit === 'straight' ? target : Math.min(TURN_SPEED, target);
    const distance = Math.max(0, point - this.s);
    const allowed = Math.sqrt(vEnd * vEnd + 2 * BRAKE * distance);
    const desired = Math.min(target, allowed);
    this.v = this.v < desired ? Math.min(this.v + ACCEL * dt, desired) : desired;
    if (!c.active && this.v < 0.1) {
      this.v = 0;
      this.parked = true;
      return;
    }
    const ds = this.v * dt;
    if (this.s + ds < point - (stopAhead ? 0.5 : 0)) {
      this.s += ds;
      this.odometer += ds;
      return;
    }
    this.odometer += Math.max(0, point - this.s);
    if (this.holdAt !== null) {
      this.s = this.holdAt;
      this.holdAt = null;
      this.stop(this.holdMs);
    } else if (this.stopAtNode) {
      this.s = segLen;
      this.stopAtNode = false;
      this.stop(this.rng.range(5_000, 40_000));
    } else {
      const over = this.s + ds - segLen;
      const node = this.grid.neighbour(this.i, this.j, this.dir)!;
      this.i = node.i;
      this.j = node.j;
      this.dir = turn(this.dir, this.exit);
      this.planSegment();
      this.s = Math.min(over, this.grid.segmentLength(this.i, this.j, this.dir) / 2);
      this.odometer += this.s;
    }
  }

  private stop(ms: number): void {
    this.v = 0;
    this.stoppedUntil = this.t + ms;
  }

  /** Decides what happens on the block just entered: the exit at its end, lights, a delivery. */
  private planSegment(): void {
    const end = this.grid.neighbour(this.i, this.j, this.dir)!;
    const options: Exit[] = [];
    const weights: number[] = [];
    for (const [exit, w] of [
      ['straight', 0.6],
      ['left', 0.2],
      ['right', 0.2],
    ] as const) {
      if (this.grid.neighbour(end.i, end.j, turn(this.dir, exit))) {
        options.push(exit);
        weights.push(w);
      }
    }
    if (options.length === 0) {
      options.push('back');
      weights.push(1);
    }
    let r = this.rng.next() * weights.reduce((a, b) => a + b, 0);
    let k = 0;
    while (k < options.length - 1 && (r -= weights[k]!) > 0) k++;
    this.exit = options[k]!;
    this.stopAtNode = this.exit === 'back' || this.rng.chance(0.3);
    const length = this.grid.segmentLength(this.i, this.j, this.dir);
    if (this.rng.chance(this.deliveryChance)) {
      this.holdAt = this.rng.range(0.2, 0.8) * length;
      this.holdMs = this.rng.range(60_000, 300_000);
    } else {
      this.holdAt = null;
    }
  }

  private position(): Position {
    const { x, y } = this.grid.point(this.i, this.j, this.dir, this.s);
    const accuracy = round(this.rng.range(3, 10), 1);
    const noise = accuracy / 2;
    const { lat, lon } = this.projection.toLatLon(
      x + this.rng.normal() * noise,
      y + this.rng.normal() * noise,
    );
    const speed = this.v > 0.1 ? Math.max(0, this.v * 3.6 + this.rng.normal() * 0.8) : 0;
    const heading = (this.dir * 90 + this.rng.normal() * 1.5 + 360) % 360;
    const hours = (this.t - this.startMs) / 3_600_000;
    return {
      vehicleId: this.id,
      ts: Math.round(this.t),
      lat: round(lat, 6),
      lon: round(lon, 6),
      speed: round(speed, 1),
      heading: round(heading, 1),
      altitude: round(35 + 8 * Math.sin(x / 1500) + 6 * Math.cos(y / 1100) + this.rng.normal(), 1),
      accuracy,
      battery: round(Math.max(5, this.batteryStart - 2 * hours), 1),
      attributes: { odometer: Math.round(this.odometer), motion: this.moving },
    };
  }
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
