import { bearingDeg, EARTH_RADIUS_M } from '../../src/domain/geo.js';
import type { Position } from '../../src/domain/position.js';

/**
 * A small deterministic fleet for end-to-end tests: vehicles driving circles around a centre, each
 * with its own radius, phase and speed (50 + 3i km/h, reported consistently), so positions are a
 * pure function of time.
 */
export class MovingFleet {
  constructor(
    readonly size: number,
    readonly centre = { lat: 48.8566, lon: 2.3522 },
  ) {}

  id(i: number): string {
    return `van-${String(i + 1).padStart(2, '0')}`;
  }

  speedKmh(i: number): number {
    return 50 + 3 * i;
  }

  positionAt(i: number, ts: number): Position {
    const radiusDeg = 0.01 + 0.004 * i;
    const radiusM = (radiusDeg * Math.PI * EARTH_RADIUS_M) / 180;
    const radiansPerMs = this.speedKmh(i) / 3.6 / 1000 / radiusM;
    const angle = (i * 2 * Math.PI) / this.size + radiansPerMs * ts;
    const point = (a: number) => ({
      lat: this.centre.lat + radiusDeg * Math.sin(a),
      lon: this.centre.lon + (radiusDeg * Math.cos(a)) / Math.cos((this.centre.lat * Math.PI) / 180),
    });
    const here = point(angle);
    const ahead = point(angle + 0.001);
    return {
      vehicleId: this.id(i),
      ts,
      lat: here.lat,
      lon: here.lon,
      speed: this.speedKmh(i),
      heading: Math.round(bearingDeg(here.lat, here.lon, ahead.lat, ahead.lon)) % 360,
      battery: 90 - i,
    };
  }

  /** Every vehicle's positions from `from` to `to` (exclusive), every `stepMs`, oldest first. */
  history(from: number, to: number, stepMs: number): Position[] {
    const out: Position[] = [];
    for (let ts = from; ts < to; ts += stepMs) {
      for (let i = 0; i < this.size; i++) out.push(this.positionAt(i, ts));
    }
    return out;
  }

  /** Everyone's position now. */
  now(ts = Date.now()): Position[] {
    return Array.from({ length: this.size }, (_, i) => this.positionAt(i, ts));
  }
}
