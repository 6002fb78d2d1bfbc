import type { BoundingBox } from './geo.js';

/**
 * A uniform grid over lat/lon: each item is listed in every cell its (padded) box touches, so a
 * point query reads one cell — constant work per position however many geofences exist, as long as
 * few overlap one cell. Cells of 0.05° (~5 km) suit city-sized zones; a huge zone costs more cells,
 * not more work per query.
 */
export class GridIndex<T extends { id: string; bbox: BoundingBox }> {
  private readonly cells = new Map<number, Map<string, T>>();
  private readonly items = new Map<string, T>();
  /** Items too large for the grid (more than `maxCells` cells) are checked on every query. */
  private readonly large = new Map<string, T>();

  constructor(
    private readonly cellDeg = 0.05,
    /** Degrees added around each box, so hysteresis near an edge still finds the item. */
    private readonly padDeg = 0.01,
    private readonly maxCells = 40_000,
  ) {}

  get size(): number {
    return this.items.size;
  }

  private cellRange(box: BoundingBox) {
    const c = (v: number) => Math.floor(v / this.cellDeg);
    return {
      x0: c(box.minLon - this.padDeg),
      x1: c(box.maxLon + this.padDeg),
      y0: c(box.minLat - this.padDeg),
      y1: c(box.maxLat + this.padDeg),
    };
  }
  private key = (x: number, y: number) => x * 100_000 + y;

  upsert(item: T): void {
    this.remove(item.id);
    this.items.set(item.id, item);
    const { x0, x1, y0, y1 } = this.cellRange(item.bbox);
    if ((x1 - x0 + 1) * (y1 - y0 + 1) > this.maxCells) {
      this.large.set(item.id, item);
      return;
    }
    for (let x = x0; x <= x1; x++)
      for (let y = y0; y <= y1; y++) {
        const k = this.key(x, y);
        let cell = this.cells.get(k);
        if (!cell) this.cells.set(k, (cell = new Map()));
        cell.set(item.id, item);
      }
  }

  remove(id: string): void {
    const item = this.items.get(id);
    if (!item) return;
    this.items.delete(id);
    if (this.large.delete(id)) return;
    const { x0, x1, y0, y1 } = this.cellRange(item.bbox);
    for (let x = x0; x <= x1; x++)
      for (let y = y0; y <= y1; y++) {
        const k = this.key(x, y);
        const cell = this.cells.get(k);
        cell?.delete(id);
        if (cell?.size === 0) this.cells.delete(k);
      }
  }

  get(id: string): T | undefined {
    return this.items.get(id);
  }

  /** Items whose padded box may contain the point (a superset; callers test the exact shape). */
  candidates(lat: number, lon: number): T[] {
    const cell = this.cells.get(this.key(Math.floor(lon / this.cellDeg), Math.floor(lat / this.cellDeg)));
    const out = cell ? [...cell.values()] : [];
    for (const item of this.large.values()) out.push(item);
    return out;
  }
}
