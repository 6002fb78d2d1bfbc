import type { Prng } from './prng.js';

export type StreetClass = 'arterial' | 'collector' | 'residential';

/** Speed limits of the street classes, km/h. */
export const SPEED_LIMIT_KMH: Readonly<Record<StreetClass, number>> = {
  arterial: 60,
  collector: 50,
  residential: 30,
};

/** Headings of the four directions a vehicle can drive on the grid: N, E, S, W. */
export type Direction = 0 | 1 | 2 | 3;
const DI = [0, 1, 0, -1] as const;
const DJ = [1, 0, -1, 0] as const;

/**
 * A city's street network as an irregular grid: north-south streets at `xs` metres east of the
 * area's west edge, east-west streets at `ys` metres north of its south edge. Blocks are
 * 120-320 m; every fifth street is an arterial, some others collectors.
 */
export class StreetGrid {
  readonly xs: number[];
  readonly ys: number[];
  readonly classX: StreetClass[];
  readonly classY: StreetClass[];

  constructor(width: number, height: number, rng: Prng) {
    this.xs = lines(width, rng);
    this.ys = lines(height, rng);
    this.classX = this.xs.map((_, i) => classOf(i, rng));
    this.classY = this.ys.map((_, j) => classOf(j, rng));
  }

  /** The node one step from (i, j) in `dir`, or null at the edge of the grid. */
  neighbour(i: number, j: number, dir: Direction): { i: number; j: number } | null {
    const ni = i + DI[dir];
    const nj = j + DJ[dir];
    if (ni < 0 || nj < 0 || ni >= this.xs.length || nj >= this.ys.length) return null;
    return { i: ni, j: nj };
  }

  /** Length of the block from (i, j) going `dir` (which must exist). */
  segmentLength(i: number, j: number, dir: Direction): number {
    const n = this.neighbour(i, j, dir)!;
    return dir === 0 || dir === 2
      ? Math.abs(this.ys[n.j]! - this.ys[j]!)
      : Math.abs(this.xs[n.i]! - this.xs[i]!);
  }

  /** Class of the street a vehicle at (i, j) going `dir` drives on. */
  streetClass(i: number, j: number, dir: Direction): StreetClass {
    return dir === 0 || dir === 2 ? this.classX[i]! : this.classY[j]!;
  }

  /** Point `s` metres from node (i, j) towards `dir`. */
  point(i: number, j: number, dir: Direction, s: number): { x: number; y: number } {
    return { x: this.xs[i]! + DI[dir] * s, y: this.ys[j]! + DJ[dir] * s };
  }
}

function lines(extent: number, rng: Prng): number[] {
  const out = [0];
  for (;;) {
    const next = out.at(-1)! + rng.range(120, 320);
    if (next > extent) break;
    out.push(next);
  }
  return out;
}

function classOf(index: number, rng: Prng): StreetClass {
  if (index % 5 === 2) return 'arterial';
  return rng.chance(0.25) ? 'collector' : 'residential';
}

export function turn(dir: Direction, how: 'straight' | 'left' | 'right' | 'back'): Direction {
  const delta = { straight: 0, right: 1, back: 2, left: 3 }[how];
  return ((dir + delta) % 4) as Direction;
}
