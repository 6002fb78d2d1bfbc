import { describe, expect, it } from 'vitest';
import { haversineM } from '../../src/domain/geo.js';
import { parsePosition, type Position } from '../../src/domain/position.js';
import { ConfigError } from '../../src/errors.js';
import { AREA_PRESETS, parseArea } from '../../src/ingest/simulator/area.js';
import { Fleet, type FleetOptions } from '../../src/ingest/simulator/fleet.js';
import { Prng } from '../../src/ingest/simulator/prng.js';
import { rushHourActivity, rushHourProfile } from '../../src/ingest/simulator/profile.js';

const start = Date.UTC(2026, 2, 2, 7, 0, 0);
const berlin = AREA_PRESETS.berlin!;

function run(options: Partial<FleetOptions> = {}, durationMs = 600_000): Position[] {
  const fleet = new Fleet({
    seed: 42,
    vehicles: 10,
    area: berlin,
    intervalMs: 5000,
    startMs: start,
    ...options,
  });
  return fleet.advanceTo(start + durationMs);
}

function byVehicle(positions: Position[]): Map<string, Position[]> {
  const out = new Map<string, Position[]>();
  for (const p of positions) out.set(p.vehicleId, [...(out.get(p.vehicleId) ?? []), p]);
  return out;
}

describe('seeded PRNG', () => {
  it('repeats a sequence for a seed and differs between seeds and streams', () => {
    const seq = (r: Prng) => Array.from({ length: 5 }, () => r.next());
    expect(seq(new Prng(1))).toEqual(seq(new Prng(1)));
    expect(seq(new Prng(1))).not.toEqual(seq(new Prng(2)));
    expect(seq(Prng.stream(1, 0))).not.toEqual(seq(Prng.stream(1, 1)));
    const values = seq(new Prng(3));
    for (const v of values) expect(v >= 0 && v < 1).toBe(true);
  });
});

describe('fleet simulation', () => {
  it('is deterministic: same seed, same positions; another seed, other positions', () => {
    const a = run();
    expect(a.length).toBeGreaterThan(1000);
    expect(run()).toEqual(a);
    expect(run({ seed: 43 })).not.toEqual(a);
  });

  it('does not depend on how the clock ticks', () => {
    const fleet = new Fleet({ seed: 42, vehicles: 10, area: berlin, intervalMs: 5000, startMs: start });
    const ticked: Position[] = [];
    for (let t = start; t <= start + 600_000; t += 137) ticked.push(...fleet.advanceTo(t, 3));
    ticked.push(...fleet.advanceTo(start + 600_000));
    expect(ticked).toEqual(run());
  });

  it('reports every vehicle at its interval, staggered, in time order', () => {
    const positions = run();
    for (let i = 1; i < positions.length; i++)
      expect(positions[i]!.ts).toBeGreaterThanOrEqual(positions[i - 1]!.ts);
    for (const [, ps] of byVehicle(positions)) {
      for (let i = 1; i < ps.length; i++) expect(ps[i]!.ts - ps[i - 1]!.ts).toBe(5000);
    }
    expect(new Set(positions.slice(0, 10).map((p) => p.ts)).size).toBeGreaterThan(1);
  });

  it('moves plausibly: valid positions in the area, city speeds, no jumps, stops, turns', () => {
    const positions = run({ vehicles: 20 }, 1_800_000);
    let stopped = 0;
    const headings = new Set<number>();
    for (const p of positions) {
      expect(() => parsePosition(p, { now: p.ts })).not.toThrow();
      expect(p.lat).toBeGreaterThan(berlin.minLat - 0.001);
      expect(p.lat).toBeLessThan(berlin.maxLat + 0.001);
      expect(p.speed!).toBeLessThanOrEqual(75);
      if (p.speed === 0) stopped++;
      headings.add(Math.round(p.heading! / 90) % 4);
    }
    for (const [, ps] of byVehicle(positions)) {
      for (let i = 1; i < ps.length; i++) {
        const a = ps[i - 1]!;
        const b = ps[i]!;
        const kmh = (haversineM(a.lat, a.lon, b.lat, b.lon) / ((b.ts - a.ts) / 1000)) * 3.6;
        // 70 km/h fastest plus GPS noise of a few metres over 5 s
        expect(kmh).toBeLessThan(80);
      }
      const odometers = ps.map((p) => p.attributes!.odometer as number);
      expect([...odometers].sort((x, y) => x - y)).toEqual(odometers);
    }
    const moving = positions.filter((p) => p.speed! > 0).map((p) => p.speed!);
    const mean = moving.reduce((a, b) => a + b, 0) / moving.length;
    expect(mean).toBeGreaterThan(15);
    expect(mean).toBeLessThan(50);
    expect(stopped / positions.length).toBeGreaterThan(0.05);
    expect(stopped / positions.length).toBeLessThan(0.7);
    expect(headings.size).toBe(4);
  });

  it("keeps a vehicle's path continuous when asked more often", () => {
    const fine = run({ vehicles: 1, intervalMs: 1000 }, 300_000);
    for (let i = 1; i < fine.length; i++) {
      const a = fine[i - 1]!;
      const b = fine[i]!;
      // at most 70 km/h for 1 s, plus GPS noise (accuracy <= 10 m)
      expect(haversineM(a.lat, a.lon, b.lat, b.lon)).toBeLessThan(70 / 3.6 + 20);
    }
  });
});

describe('rush-hour profile', () => {
  it('peaks in the morning and evening, is low at night', () => {
    expect(rushHourActivity(3)).toBeLessThan(0.2);
    expect(rushHourActivity(8)).toBeGreaterThan(0.9);
    expect(rushHourActivity(17.5)).toBeGreaterThan(0.9);
    expect(rushHourActivity(13)).toBeGreaterThan(0.35);
    expect(rushHourActivity(13)).toBeLessThan(0.75);
    expect(rushHourActivity(8)).toBeGreaterThan(rushHourActivity(11));
  });

  it('puts more vehicles on the road and reports more often at the peak than at night', () => {
    const night = Date.UTC(2026, 2, 2, 2, 0, 0);
    const peak = Date.UTC(2026, 2, 2, 7, 0, 0); // 08:00 in Berlin (UTC+1)
    const rate = (startMs: number) => {
      const fleet = new Fleet({
        seed: 1,
        vehicles: 200,
        area: berlin,
        intervalMs: 5000,
        startMs,
        profile: rushHourProfile({ utcOffsetHours: 1, startMs }),
      });
      const n = fleet.advanceTo(startMs + 600_000).length;
      return { n, active: fleet.activeCount };
    };
    const atNight = rate(night);
    const atPeak = rate(peak);
    expect(atPeak.active).toBeGreaterThan(150);
    expect(atNight.active).toBeLessThan(60);
    expect(atPeak.n).toBeGreaterThan(atNight.n * 2);
  });
});

describe('--area', () => {
  it('takes a preset or a bbox and refuses nonsense', () => {
    expect(parseArea('Paris')).toEqual(AREA_PRESETS.paris);
    expect(parseArea('13.3,52.4,13.5,52.6')).toEqual({
      minLon: 13.3,
      minLat: 52.4,
      maxLon: 13.5,
      maxLat: 52.6,
    });
    expect(() => parseArea('atlantis')).toThrow(ConfigError);
    expect(() => parseArea('13.5,52.4,13.3,52.6')).toThrow(/min < max/);
    expect(() => parseArea('-10,30,30,60')).toThrow(/1-100 km/);
  });
});
