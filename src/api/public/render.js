// Canvas drawing: the base (tiles or a coordinate grid), the selected vehicle's track, markers.
import { project, TILE_SIZE } from './projection.js';

export const COLOURS = { fresh: '#22c55e', aging: '#f59e0b', stale: '#ef4444', track: '#60a5fa' };
const GRID_STEPS = [
  90, 45, 30, 15, 10, 5, 2, 1, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001, 0.0005,
];

/** fresh < staleAfter/2 <= aging < staleAfter <= stale */
export function staleness(ageMs, staleAfterMs) {
  if (ageMs >= staleAfterMs) return 'stale';
  return ageMs >= staleAfterMs / 2 ? 'aging' : 'fresh';
}

/** A plain lat/lon graticule with labels: the base map when no tile URL is configured. */
export function drawGrid(ctx, view) {
  ctx.fillStyle = '#0f1720';
  ctx.fillRect(0, 0, view.width, view.height);
  const b = view.bounds();
  const pixelsPerDegree = view.width / Math.max(1e-9, b.east - b.west);
  const step = GRID_STEPS.find((s) => s * pixelsPerDegree < 140) ?? GRID_STEPS[GRID_STEPS.length - 1];
  const decimals = Math.max(0, Math.ceil(-Math.log10(step)));
  ctx.lineWidth = 1;
  ctx.font = '11px system-ui, sans-serif';
  ctx.fillStyle = '#5b6b7b';

  for (let lon = Math.floor(b.west / step) * step; lon <= b.east; lon += step) {
    const x = Math.round(view.toScreen(b.north, lon).x) + 0.5;
    ctx.strokeStyle = Math.abs(lon) < step / 2 ? '#3a4b5d' : '#1f2a36';
    ctx.beginPath();
    ctx.moveTo(x, 0);
    ctx.lineTo(x, view.height);
    ctx.stroke();
    ctx.fillText(`${lon.toFixed(decimals)}°`, x + 3, 14);
  }
  const latStep = step;
  for (let lat = Math.floor(b.south / latStep) * latStep; lat <= b.north; lat += latStep) {
    if (lat < -85 || lat > 85) continue;
    const y = Math.round(view.toScreen(lat, b.west).y) + 0.5;
    ctx.strokeStyle = Math.abs(lat) < latStep / 2 ? '#3a4b5d' : '#1f2a36';
    ctx.beginPath();
    ctx.moveTo(0, y);
    ctx.lineTo(view.width, y);
    ctx.stroke();
    ctx.fillText(`${lat.toFixed(decimals)}°`, view.width - 64, y - 3);
  }
}

/** Slippy-map tiles from `template` ({z}/{x}/{y}, optional {s}); missing tiles show the grid. */
export class TileLayer {
  constructor(template, onLoad) {
    this.template = template;
    this.onLoad = onLoad;
    this.cache = new Map();
  }

  url(z, x, y) {
    return this.template
      .replace('{s}', 'abc'[(x + y) % 3])
      .replace('{z}', z)
      .replace('{x}', x)
      .replace('{y}', y);
  }

  tile(z, x, y) {
    const key = `${z}/${x}/${y}`;
    let img = this.cache.get(key);
    if (!img) {
      img = new Image();
      img.crossOrigin = 'anonymous';
      img.onload = () => this.onLoad();
      img.src = this.url(z, x, y);
      this.cache.set(key, img);
      if (this.cache.size > 600) this.cache.delete(this.cache.keys().next().value);
    }
    return img.complete && img.naturalWidth > 0 ? img : null;
  }

  draw(ctx, view) {
    drawGrid(ctx, view);
    const z = Math.max(0, Math.min(19, Math.round(view.zoom)));
    const scale = 2 ** (view.zoom - z);
    const size = TILE_SIZE * scale;
    const c = view.centre();
    const originX = c.x - view.width / 2;
    const originY = c.y - view.height / 2;
    const n = 2 ** z;
    const x0 = Math.floor(originX / size);
    const y0 = Math.max(0, Math.floor(originY / size));
    const x1 = Math.floor((originX + view.width) / size);
    const y1 = Math.min(n - 1, Math.floor((originY + view.height) / size));
    for (let ty = y0; ty <= y1; ty++) {
      for (let tx = x0; tx <= x1; tx++) {
        const img = this.tile(z, ((tx % n) + n) % n, ty);
        if (img) ctx.drawImage(img, tx * size - originX, ty * size - originY, size + 0.5, size + 0.5);
      }
    }
  }
}

/** The selected vehicle's track: a polyline with a start dot. */
export function drawTrack(ctx, view, points) {
  if (points.length === 0) return;
  const c = view.centre();
  const ox = c.x - view.width / 2;
  const oy = c.y - view.height / 2;
  ctx.strokeStyle = COLOURS.track;
  ctx.lineWidth = 3;
  ctx.lineJoin = 'round';
  ctx.beginPath();
  points.forEach((p, i) => {
    const w = project(p.lat, p.lon, view.zoom);
    if (i === 0) ctx.moveTo(w.x - ox, w.y - oy);
    else ctx.lineTo(w.x - ox, w.y - oy);
  });
  ctx.stroke();
  const start = project(points[0].lat, points[0].lon, view.zoom);
  ctx.fillStyle = '#ffffff';
  ctx.beginPath();
  ctx.arc(start.x - ox, start.y - oy, 4, 0, 2 * Math.PI);
  ctx.fill();
}

/**
 * Every marker: a dot coloured by staleness, a heading tick when known, the id when zoomed in or
 * selected. `markers` are {id, lat, lon, heading, colour, selected}; returns their screen points.
 */
export function drawMarkers(ctx, view, markers, showLabels) {
  const c = view.centre();
  const ox = c.x - view.width / 2;
  const oy = c.y - view.height / 2;
  const onScreen = [];
  ctx.font = '12px system-ui, sans-serif';
  for (const m of markers) {
    const w = project(m.lat, m.lon, view.zoom);
    const x = w.x - ox;
    const y = w.y - oy;
    if (x < -20 || y < -20 || x > view.width + 20 || y > view.height + 20) continue;
    onScreen.push({ id: m.id, x, y });
    const r = m.selected ? 8 : 6;
    if (typeof m.heading === 'number') {
      const a = (m.heading * Math.PI) / 180;
      ctx.strokeStyle = m.colour;
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.moveTo(x + Math.sin(a) * r, y - Math.cos(a) * r);
      ctx.lineTo(x + Math.sin(a) * (r + 7), y - Math.cos(a) * (r + 7));
      ctx.stroke();
    }
    ctx.fillStyle = m.colour;
    ctx.beginPath();
    ctx.arc(x, y, r, 0, 2 * Math.PI);
    ctx.fill();
    ctx.lineWidth = m.selected ? 3 : 1.5;
    ctx.strokeStyle = m.selected ? '#ffffff' : '#0b1118';
    ctx.stroke();
    if (showLabels || m.selected) {
      ctx.fillStyle = '#e6edf3';
      ctx.fillText(m.id, x + r + 4, y + 4);
    }
  }
  return onScreen;
}
