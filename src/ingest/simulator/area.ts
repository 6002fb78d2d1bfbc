import { ConfigError } from '../../errors.js';
import { EARTH_RADIUS_M, type BoundingBox } from '../../domain/geo.js';

/** City-sized boxes for `--area NAME`. */
export const AREA_PRESETS: Readonly<Record<string, BoundingBox>> = {
  berlin: { minLat: 52.46, minLon: 13.28, maxLat: 52.56, maxLon: 13.5 },
  paris: { minLat: 48.82, minLon: 2.25, maxLat: 48.9, maxLon: 2.42 },
  london: { minLat: 51.46, minLon: -0.2, maxLat: 51.55, maxLon: 0.0 },
  nyc: { minLat: 40.7, minLon: -74.02, maxLat: 40.8, maxLon: -73.93 },
  sf: { minLat: 37.73, minLon: -122.51, maxLat: 37.81, maxLon: -122.39 },
};

export const DEFAULT_AREA = 'berlin';

/** Largest box the simulator accepts: a metropolitan area, not a continent. */
const MAX_SIDE_M = 100_000;

/**
 * Parses `--area`: a preset name or `minLon,minLat,maxLon,maxLat` (the GeoJSON bbox order).
 */
export function parseArea(text: string): BoundingBox {
  const preset = AREA_PRESETS[text.trim().toLowerCase()];
  if (preset) return preset;
  const parts = text.split(',').map((s) => Number(s.trim()));
  if (parts.length !== 4 || parts.some((n) => !Number.isFinite(n))) {
    throw new ConfigError(
      '--area',
      `'${text}' is neither a preset (${Object.keys(AREA_PRESETS).join(', ')}) nor minLon,minLat,maxLon,maxLat`,
    );
  }
  const [minLon, minLat, maxLon, maxLat] = parts as [number, number, number, number];
  const box = { minLat, minLon, maxLat, maxLon };
  if (minLat < -85 || maxLat > 85 || minLon < -180 || maxLon > 180 || minLat >= maxLat || minLon >= maxLon) {
    throw new ConfigError('--area', `'${text}' is not a valid box (min < max, |lat| <= 85, |lon| <= 180)`);
  }
  const { width, height } = new LocalProjection(box);
  if (width < 1000 || height < 1000 || width > MAX_SIDE_M || height > MAX_SIDE_M) {
    throw new ConfigError(
      '--area',
      `each side must be 1-100 km (got ${Math.round(width)} x ${Math.round(height)} m)`,
    );
  }
  return box;
}

/**
 * Metres east/north of the box's south-west corner <-> lat/lon (equirectangular: exact enough
 * for a city).
 */
export class LocalProjection {
  readonly width: number;
  readonly height: number;
  private readonly mPerDegLat: number;
  private readonly mPerDegLon: number;

  constructor(readonly box: BoundingBox) {
    const midLat = ((box.minLat + box.maxLat) / 2) * (Math.PI / 180);
    this.mPerDegLat = (Math.PI / 180) * EARTH_RADIUS_M;
    this.mPerDegLon = this.mPerDegLat * Math.cos(midLat);
    this.width = (box.maxLon - box.minLon) * this.mPerDegLon;
    this.height = (box.maxLat - box.minLat) * this.mPerDegLat;
  }

  toLatLon(x: number, y: number): { lat: number; lon: number } {
    return { lat: this.box.minLat + y / this.mPerDegLat, lon: this.box.minLon + x / this.mPerDegLon };
  }

  /** Hours the box's local solar time is ahead of UTC (rounded), for the rush-hour curve. */
  utcOffsetHours(): number {
    return Math.round((this.box.minLon + this.box.maxLon) / 2 / 15);
  }
}
