// The live map's pure logic, free of the DOM and of Leaflet, so Node tests import it too:
// staleness colours, the marker glide, grid clustering, the graticule and track playback.

export const COLOURS = { fresh: '#22c55e', aging: '#f59e0b', stale: '#ef4444', track: '#60a5fa' };

/** fresh < staleAfter/2 <= aging < staleAfter <= stale */
export function staleness(ageMs, staleAfterMs) {
  if (ageMs >= staleAfterMs) return 'stale';
  return ageMs >= staleAfterMs / 2 ? 'aging' : 'fresh';
}

/** Where a gliding marker is at `t` in [0, 1] of its move from `from` to `to` ({lat, lon}). */
export function glide(from, to, t) {
  if (!from || t >= 1) return { lat: to.lat, lon: to.lon };
  const k = Math.max(0, t);
  return { lat: from.lat + (to.lat - from.lat) * k, lon: from.lon + (to.lon - from.lon) * k };
}

/**
 * Groups screen points ({id, x, y, lat, lon, state, pinned}) by a square grid of `cellPx` pixels.
 * A cell holding `minCount` or more points becomes one cluster (at the members' mean, with counts
 * per staleness state and the members' lat/lon bounds); the rest, and every `pinned` point (the
 * selected vehicle), stay single. One pass, O(n): 10,000 points cost about a millisecond.
 */
export function clusterGrid(points, cellPx, minCount = 2) {
  const cells = new Map();
  const singles = [];
  for (const p of points) {
    if (p.pinned) {
      singles.push(p);
      continue;
    }
    const key = `${Math.floor(p.x / cellPx)}:${Math.floor(p.y / cellPx)}`;
    const cell = cells.get(key);
    if (cell) cell.push(p);
    else cells.set(key, [p]);
  }
  const clusters = [];
  for (const members of cells.values()) {
    if (members.length < minCount) {
      singles.push(...members);
      continue;
    }
    const c = { x: 0, y: 0, count: members.length, fresh: 0, aging: 0, stale: 0 };
    c.south = c.west = Infinity;
    c.north = c.east = -Infinity;
    for (const m of members) {
      c.x += m.x / members.length;
      c.y += m.y / members.length;
      c[m.state] = (c[m.state] ?? 0) + 1;
      c.south = Math.min(c.south, m.lat);
      c.north = Math.max(c.north, m.lat);
      c.west = Math.min(c.west, m.lon);
      c.east = Math.max(c.east, m.lon);
    }
    clusters.push(c);
  }
  return { singles, clusters };
}

const GRATICULE_STEPS = [10, 5, 2, 1, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001];

/**
 * The graticule's spacing in degrees at a Web Mercator `zoom` (256 px tiles): the finest step
 * whose lines stay at least `minPx` apart, never coarser than 10°.
 */
export function graticuleStep(zoom, minPx = 80) {
  const pxPerDegree = (256 * 2 ** zoom) / 360;
  const fitting = GRATICULE_STEPS.filter((s) => s * pxPerDegree >= minPx);
  return fitting.length > 0 ? fitting[fitting.length - 1] : GRATICULE_STEPS[0];
}

/**
 * Graticule lines covering `bounds` ({south, west, north, east}, degrees) every `step` degrees:
 * meridians and parallels as [[lat, lon], [lat, lon]] pairs (straight in Web Mercator), the
 * parallels kept inside ±85° where the projection ends.
 */
export function graticuleLines(bounds, step) {
  // Whole multiples of the step, with a little slack: 7 * 0.05 is 0.35000000000000003.
  const first = (v) => Math.ceil(v / step - 1e-9);
  const last = (v) => Math.floor(v / step + 1e-9);
  const value = (i) => Number((i * step).toFixed(6));
  const south = Math.max(-85, bounds.south);
  const north = Math.min(85, bounds.north);
  const lines = [];
  for (let i = first(bounds.west); i <= last(bounds.east); i++) {
    const lon = value(i);
    lines.push({
      kind: 'meridian',
      value: lon,
      points: [
        [south, lon],
        [north, lon],
      ],
    });
  }
  for (let i = first(south); i <= last(north); i++) {
    const lat = value(i);
    lines.push({
      kind: 'parallel',
      value: lat,
      points: [
        [lat, bounds.west],
        [lat, bounds.east],
      ],
    });
  }
  return lines;
}

/**
 * Where the vehicle was at `ts` along `track` (positions {ts, lat, lon, heading?}, oldest first):
 * interpolated linearly between the two reports around `ts`, clamped to the ends; the heading
 * is the reported one, or the bearing of the segment when none was reported. Null when empty.
 */
export function trackAt(track, ts) {
  if (track.length === 0) return null;
  if (ts <= track[0].ts) return { ...pick(track[0]), ts: track[0].ts, index: 0 };
  const last = track.length - 1;
  if (ts >= track[last].ts) return { ...pick(track[last]), ts: track[last].ts, index: last };
  let lo = 0;
  let hi = last;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (track[mid].ts <= ts) lo = mid;
    else hi = mid;
  }
  const a = track[lo];
  const b = track[hi];
  const t = b.ts === a.ts ? 0 : (ts - a.ts) / (b.ts - a.ts);
  const heading = typeof a.heading === 'number' ? a.heading : bearing(a, b);
  return { lat: a.lat + (b.lat - a.lat) * t, lon: a.lon + (b.lon - a.lon) * t, heading, ts, index: lo };
}

const pick = (p) => ({ lat: p.lat, lon: p.lon, heading: typeof p.heading === 'number' ? p.heading : null });

/** Initial bearing from a to b, degrees clockwise from north in [0, 360). */
export function bearing(a, b) {
  const rad = Math.PI / 180;
  const dLon = (b.lon - a.lon) * rad;
  const y = Math.sin(dLon) * Math.cos(b.lat * rad);
  const x =
    Math.cos(a.lat * rad) * Math.sin(b.lat * rad) -
    Math.sin(a.lat * rad) * Math.cos(b.lat * rad) * Math.cos(dLon);
  return (((Math.atan2(y, x) / rad) % 360) + 360) % 360;
}

/** The playback slider's `value` of `max` as a time between the track's first and last report. */
export function sliderTime(track, value, max) {
  if (track.length === 0) return null;
  const first = track[0].ts;
  const span = track[track.length - 1].ts - first;
  return first + (span * Math.min(max, Math.max(0, value))) / max;
}
