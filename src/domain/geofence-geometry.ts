import { haversineM } from './geo.js';
import type { Geofence, Ring } from './geofence.js';

/** Ray casting: true when [lon, lat] is inside the ring (points on the edge may go either way). */
function inRing(lon: number, lat: number, ring: Ring): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i]!;
    const [xj, yj] = ring[j]!;
    if (yi > lat !== yj > lat && lon < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Metres from the point to the nearest edge of the ring (equirectangular, fine for zones < 100 km). */
function distanceToRingM(lon: number, lat: number, ring: Ring): number {
  const kx = 111_320 * Math.cos((lat * Math.PI) / 180);
  const ky = 110_540;
  let best = Infinity;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const ax = (ring[j]![0] - lon) * kx;
    const ay = (ring[j]![1] - lat) * ky;
    const bx = (ring[i]![0] - lon) * kx;
    const by = (ring[i]![1] - lat) * ky;
    const dx = bx - ax;
    const dy = by - ay;
    const len2 = dx * dx + dy * dy;
    const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, -(ax * dx + ay * dy) / len2));
    best = Math.min(best, Math.hypot(ax + t * dx, ay + t * dy));
  }
  return best;
}

/**
 * Signed distance in metres from the point to the geofence's boundary: negative inside, positive
 * outside. The hysteresis of enter/exit is a band around 0.
 */
export function signedDistanceM(g: Geofence, lat: number, lon: number): number {
  if (g.shape.kind === 'circle') return haversineM(lat, lon, g.shape.lat, g.shape.lon) - g.shape.radiusM;
  let inside = false;
  let edge = Infinity;
  for (const polygon of g.shape.polygons) {
    const [outer, ...holes] = polygon;
    if (!outer) continue;
    const inPolygon = inRing(lon, lat, outer) && !holes.some((h) => inRing(lon, lat, h));
    inside ||= inPolygon;
    for (const r of polygon) edge = Math.min(edge, distanceToRingM(lon, lat, r));
  }
  return inside ? -edge : edge;
}
