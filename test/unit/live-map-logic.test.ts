import { describe, expect, it } from 'vitest';

/** The live map's pure module (plain browser JS, no types): loaded by path, typed here. */
interface Point {
  id: string;
  x: number;
  y: number;
  lat: number;
  lon: number;
  state: 'fresh' | 'aging' | 'stale';
  pinned?: boolean;
}
interface Cluster {
  x: number;
  y: number;
  count: number;
  fresh: number;
  aging: number;
  stale: number;
  south: number;
  west: number;
  north: number;
  east: number;
}
interface TrackPoint {
  ts: number;
  lat: number;
  lon: number;
  heading?: number | null;
}
interface Line {
  kind: 'meridian' | 'parallel';
  value: number;
  points: [number, number][];
}
interface MapLogic {
  staleness(ageMs: number, staleAfterMs: number): 'fresh' | 'aging' | 'stale';
  glide(
    from: { lat: number; lon: number } | null,
    to: { lat: number; lon: number },
    t: number,
  ): { lat: number; lon: number };
  clusterGrid(points: Point[], cellPx: number, minCount?: number): { singles: Point[]; clusters: Cluster[] };
  graticuleStep(zoom: number, minPx?: number): number;
  graticuleLines(bounds: { south: number; west: number; north: number; east: number }, step: number): Line[];
  trackAt(
    track: TrackPoint[],
    ts: number,
  ): { lat: number; lon: number; heading: number | null; ts: number; index: number } | null;
  bearing(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number;
  sliderTime(track: TrackPoint[], value: number, max: number): number | null;
}
const modulePath = '../../src/api/public/map-logic.js';
const logic = (await import(modulePath)) as MapLogic;

const point = (id: string, x: number, y: number, extra: Partial<Point> = {}): Point => ({
  id,
  x,
  y,
  lat: y / 10,
  lon: x / 10,
  state: 'fresh',
  ...extra,
});

describe('live map logic', () => {
  it('colours by age: fresh below half the stale limit, aging up to it, stale from it on', () => {
    expect(logic.staleness(0, 60_000)).toBe('fresh');
    expect(logic.staleness(29_999, 60_000)).toBe('fresh');
    expect(logic.staleness(30_000, 60_000)).toBe('aging');
    expect(logic.staleness(59_999, 60_000)).toBe('aging');
    expect(logic.staleness(60_000, 60_000)).toBe('stale');
  });

  it('glides a marker from its old spot to the new one, landing exactly', () => {
    const from = { lat: 10, lon: 20 };
    const to = { lat: 12, lon: 16 };
    expect(logic.glide(from, to, 0)).toEqual(from);
    expect(logic.glide(from, to, 0.25)).toEqual({ lat: 10.5, lon: 19 });
    expect(logic.glide(from, to, 1)).toEqual(to);
    expect(logic.glide(from, to, 3)).toEqual(to);
    expect(logic.glide(null, to, 0.5)).toEqual(to);
  });

  describe('grid clustering', () => {
    it('groups points sharing a cell, keeps lone ones and the pinned one single', () => {
      const { singles, clusters } = logic.clusterGrid(
        [
          point('a', 10, 10),
          point('b', 30, 20, { state: 'stale' }),
          point('c', 40, 40, { state: 'aging' }),
          point('d', 45, 5, { pinned: true }), // same cell as a, b, c but selected
          point('e', 60, 10), // next cell, alone
          point('f', 130, 130),
          point('g', 140, 140),
        ],
        50,
      );
      expect(singles.map((p) => p.id).sort()).toEqual(['d', 'e']);
      expect(clusters).toHaveLength(2);
      const [abc, fg] = [...clusters].sort((p, q) => p.x - q.x);
      expect(abc).toMatchObject({ count: 3, fresh: 1, aging: 1, stale: 1 });
      expect(abc!.x).toBeCloseTo(80 / 3);
      expect(abc!.y).toBeCloseTo(70 / 3);
      expect(abc).toMatchObject({ south: 1, north: 4, west: 1, east: 4 });
      expect(fg).toMatchObject({ count: 2, fresh: 2, x: 135, y: 135 });
    });

    it('needs minCount points for a cluster and counts every point once', () => {
      const points = Array.from({ length: 10_000 }, (_, i) =>
        point(`v${i}`, (i * 37) % 1000, (i * 91) % 700),
      );
      const { singles, clusters } = logic.clusterGrid(points, 40, 5);
      expect(clusters.every((c) => c.count >= 5)).toBe(true);
      expect(singles.length + clusters.reduce((n, c) => n + c.count, 0)).toBe(10_000);
      expect(logic.clusterGrid([point('a', 1, 1), point('b', 2, 2)], 40, 3).clusters).toEqual([]);
    });

    it('puts negative coordinates (left of or above the screen) in their own cells', () => {
      const { clusters } = logic.clusterGrid([point('a', -5, 5), point('b', 5, 5)], 50);
      expect(clusters).toEqual([]);
    });
  });

  describe('graticule', () => {
    it('is every 10° zoomed out and finer as lines drift apart', () => {
      expect(logic.graticuleStep(2)).toBe(10);
      expect(logic.graticuleStep(4)).toBe(10); // 10° ≈ 114 px
      expect(logic.graticuleStep(5)).toBe(5); // 5° ≈ 114 px, 2° ≈ 46 px
      expect(logic.graticuleStep(12.5)).toBe(0.02); // 0.02° ≈ 82 px
      expect(logic.graticuleStep(30)).toBe(0.001);
    });

    it('draws meridians and parallels on the step across the bounds, parallels within ±85°', () => {
      const lines = logic.graticuleLines({ south: -95, west: -25, north: 12, east: 18 }, 10);
      const meridians = lines.filter((l) => l.kind === 'meridian').map((l) => l.value);
      const parallels = lines.filter((l) => l.kind === 'parallel').map((l) => l.value);
      expect(meridians).toEqual([-20, -10, 0, 10]);
      expect(parallels).toEqual([-80, -70, -60, -50, -40, -30, -20, -10, 0, 10]);
      expect(lines.find((l) => l.kind === 'meridian')!.points).toEqual([
        [-85, -20],
        [12, -20],
      ]);
      expect(lines.find((l) => l.value === 10 && l.kind === 'parallel')!.points).toEqual([
        [10, -25],
        [10, 18],
      ]);
    });

    it('keeps fine steps on round values (no 0.30000000000000004)', () => {
      const lines = logic.graticuleLines({ south: 0.25, west: 0.05, north: 0.35, east: 0.12 }, 0.05);
      expect(lines.map((l) => l.value)).toEqual([0.05, 0.1, 0.25, 0.3, 0.35]);
    });
  });

  describe('track playback', () => {
    const track: TrackPoint[] = [
      { ts: 1000, lat: 0, lon: 0, heading: 90 },
      { ts: 2000, lat: 0, lon: 1, heading: 90 },
      { ts: 4000, lat: 2, lon: 1 }, // no heading reported
      { ts: 5000, lat: 2, lon: 1 },
    ];

    it('interpolates between the reports around the time', () => {
      expect(logic.trackAt(track, 1500)).toEqual({ lat: 0, lon: 0.5, heading: 90, ts: 1500, index: 0 });
      expect(logic.trackAt(track, 2000)).toMatchObject({ lat: 0, lon: 1, index: 1 });
      expect(logic.trackAt(track, 3500)).toMatchObject({ lat: 1.5, lon: 1, heading: 90, index: 1 });
      // Without a reported heading, the segment's bearing: due north here.
      expect(logic.trackAt(track, 4500)!.heading).toBeCloseTo(0);
    });

    it('clamps to the ends and has nothing to say about an empty track', () => {
      expect(logic.trackAt(track, 0)).toEqual({ lat: 0, lon: 0, heading: 90, ts: 1000, index: 0 });
      expect(logic.trackAt(track, 9000)).toEqual({ lat: 2, lon: 1, heading: null, ts: 5000, index: 3 });
      expect(logic.trackAt([], 1000)).toBeNull();
    });

    it('maps the slider onto the track span', () => {
      expect(logic.sliderTime(track, 0, 1000)).toBe(1000);
      expect(logic.sliderTime(track, 500, 1000)).toBe(3000);
      expect(logic.sliderTime(track, 1000, 1000)).toBe(5000);
      expect(logic.sliderTime(track, 2000, 1000)).toBe(5000);
      expect(logic.sliderTime([], 500, 1000)).toBeNull();
    });

    it('measures bearings clockwise from north', () => {
      expect(logic.bearing({ lat: 0, lon: 0 }, { lat: 1, lon: 0 })).toBeCloseTo(0);
      expect(logic.bearing({ lat: 0, lon: 0 }, { lat: 0, lon: 1 })).toBeCloseTo(90);
      expect(logic.bearing({ lat: 1, lon: 0 }, { lat: 0, lon: 0 })).toBeCloseTo(180);
      expect(logic.bearing({ lat: 0, lon: 1 }, { lat: 0, lon: 0 })).toBeCloseTo(270);
    });
  });
});
