// Web Mercator (EPSG:3857) in "world pixels": at zoom z the world is 256 * 2^z pixels wide, the
// same grid as slippy-map tiles, so tiles and markers line up.

export const TILE_SIZE = 256;
export const MIN_ZOOM = 1;
export const MAX_ZOOM = 19;
const MAX_LAT = 85.05112878;

export const worldSize = (zoom) => TILE_SIZE * 2 ** zoom;

/** lon/lat (degrees) → world pixels at `zoom`. */
export function project(lat, lon, zoom) {
  const size = worldSize(zoom);
  const clamped = Math.max(-MAX_LAT, Math.min(MAX_LAT, lat));
  const sin = Math.sin((clamped * Math.PI) / 180);
  return {
    x: ((lon + 180) / 360) * size,
    y: (0.5 - Math.log((1 + sin) / (1 - sin)) / (4 * Math.PI)) * size,
  };
}

/** world pixels at `zoom` → lat/lon (degrees). */
export function unproject(x, y, zoom) {
  const size = worldSize(zoom);
  const lon = (x / size) * 360 - 180;
  const n = Math.PI - (2 * Math.PI * y) / size;
  const lat = (180 / Math.PI) * Math.atan(Math.sinh(n));
  return { lat, lon };
}

/**
 * What the canvas shows: a centre (lat/lon), a fractional zoom and the canvas size in CSS pixels.
 * Screen coordinates are CSS pixels from the canvas' top-left corner.
 */
export class Viewport {
  constructor() {
    this.lat = 20;
    this.lon = 0;
    this.zoom = 2;
    this.width = 1;
    this.height = 1;
  }

  resize(width, height) {
    this.width = width;
    this.height = height;
  }

  centre() {
    return project(this.lat, this.lon, this.zoom);
  }

  toScreen(lat, lon) {
    const p = project(lat, lon, this.zoom);
    const c = this.centre();
    return { x: p.x - c.x + this.width / 2, y: p.y - c.y + this.height / 2 };
  }

  toLatLon(x, y) {
    const c = this.centre();
    return unproject(c.x + x - this.width / 2, c.y + y - this.height / 2, this.zoom);
  }

  /** Moves the map by a screen delta (drag). */
  panBy(dx, dy) {
    const c = this.centre();
    const next = unproject(c.x - dx, c.y - dy, this.zoom);
    this.lat = Math.max(-MAX_LAT, Math.min(MAX_LAT, next.lat));
    this.lon = ((((next.lon + 180) % 360) + 360) % 360) - 180;
  }

  /** Zooms keeping the point under (x, y) in place (wheel, buttons with the centre). */
  zoomAround(x, y, zoom) {
    const target = Math.max(MIN_ZOOM, Math.min(MAX_ZOOM, zoom));
    const anchor = this.toLatLon(x, y);
    this.zoom = target;
    const after = this.toScreen(anchor.lat, anchor.lon);
    this.panBy(x - after.x, y - after.y);
  }

  /** Shows every point, with a margin in pixels. */
  fit(points, margin = 60, maxZoom = 16) {
    if (points.length === 0) return;
    let minLat = Infinity;
    let maxLat = -Infinity;
    let minLon = Infinity;
    let maxLon = -Infinity;
    for (const p of points) {
      minLat = Math.min(minLat, p.lat);
      maxLat = Math.max(maxLat, p.lat);
      minLon = Math.min(minLon, p.lon);
      maxLon = Math.max(maxLon, p.lon);
    }
    const a = project(maxLat, minLon, 0);
    const b = project(minLat, maxLon, 0);
    const spanX = Math.max(b.x - a.x, 1e-9);
    const spanY = Math.max(b.y - a.y, 1e-9);
    const fitX = Math.log2(Math.max(this.width - 2 * margin, 50) / spanX);
    const fitY = Math.log2(Math.max(this.height - 2 * margin, 50) / spanY);
    this.zoom = Math.max(MIN_ZOOM, Math.min(maxZoom, fitX, fitY));
    const mid = unproject((a.x + b.x) / 2, (a.y + b.y) / 2, 0);
    this.lat = mid.lat;
    this.lon = mid.lon;
  }

  /** Visible lat/lon box (for the grid and tiles). */
  bounds() {
    const nw = this.toLatLon(0, 0);
    const se = this.toLatLon(this.width, this.height);
    return { north: nw.lat, west: nw.lon, south: se.lat, east: se.lon };
  }
}
