// Every vehicle on one canvas: a Leaflet layer drawing dots with heading ticks, grid clusters when
// zoomed out. Why not L.circleMarker with L.canvas(): Leaflet's canvas renderer walks all its
// paths on every redraw and keeps an object per path, and a circle marker cannot draw the heading
// tick; and leaflet.markercluster builds DOM icons per cluster and needs L.Marker for singles (no
// canvas). One canvas we own draws 10,000 vehicles in a few milliseconds, clusters with
// clusterGrid (map-logic.js) and hit-tests clicks against what it drew last.
import { Layer, DomUtil, point } from '/vendor/leaflet/leaflet-src.esm.js';
import { clusterGrid, COLOURS } from './map-logic.js';

const CELL_PX = 48;
/** From this zoom on every vehicle is drawn on its own. */
export const CLUSTER_BELOW_ZOOM = 10;
const LABEL_FROM_ZOOM = 15;
const HIT_RADIUS_PX = 12;

export class VehicleLayer extends Layer {
  /** `markers()` returns {id, lat, lon, heading, state, selected} for every vehicle, drawn now. */
  constructor(markers, options) {
    super({ pane: 'vehicles', ...options });
    this.markers = markers;
    this.drawn = { singles: [], clusters: [] };
    this.zooming = false;
    /** How long the last draw took (ms): projecting, clustering and painting every vehicle. */
    this.drawMs = 0;
  }

  onAdd(map) {
    this.canvas = DomUtil.create('canvas', 'fleet-vehicles leaflet-zoom-animated', this.getPane());
    this.ctx = this.canvas.getContext('2d');
    this.reset();
  }

  onRemove() {
    DomUtil.remove(this.canvas);
  }

  getEvents() {
    return {
      viewreset: this.reset,
      move: this.reset,
      moveend: this.reset,
      resize: this.reset,
      zoomanim: this.animateZoom,
      zoomend: () => {
        this.zooming = false;
        this.reset();
      },
    };
  }

  /** The canvas covers the map's container again, at the current view; then it is redrawn. */
  reset() {
    if (this.zooming) return;
    const map = this._map;
    const size = map.getSize();
    const dpr = window.devicePixelRatio || 1;
    this.origin = map.containerPointToLayerPoint([0, 0]);
    this.originLatLng = map.layerPointToLatLng(this.origin);
    DomUtil.setPosition(this.canvas, this.origin);
    if (this.canvas.width !== Math.round(size.x * dpr) || this.canvas.height !== Math.round(size.y * dpr)) {
      this.canvas.width = Math.round(size.x * dpr);
      this.canvas.height = Math.round(size.y * dpr);
      this.canvas.style.width = `${size.x}px`;
      this.canvas.style.height = `${size.y}px`;
    }
    this.ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    this.draw();
  }

  /** During Leaflet's CSS zoom animation the drawing is scaled like the tiles, then redrawn. */
  animateZoom(e) {
    const map = this._map;
    this.zooming = true;
    const scale = map.getZoomScale(e.zoom, map.getZoom());
    const panePos = DomUtil.getPosition(map.getPane('mapPane'));
    const newOrigin = map.project(e.center, e.zoom).subtract(map.getSize().divideBy(2)).add(panePos).round();
    const offset = map.project(this.originLatLng, e.zoom).subtract(newOrigin);
    DomUtil.setTransform(this.canvas, offset, scale);
  }

  draw() {
    if (!this._map || this.zooming) return;
    const started = performance.now();
    const map = this._map;
    const size = map.getSize();
    const ctx = this.ctx;
    ctx.clearRect(0, 0, size.x, size.y);
    const visible = [];
    // Only what is on screen gets projected: a number comparison is cheaper than a projection.
    const b = map.getBounds().pad(0.05);
    const [south, west, north, east] = [b.getSouth(), b.getWest(), b.getNorth(), b.getEast()];
    for (const m of this.markers()) {
      if (m.lat < south || m.lat > north || m.lon < west || m.lon > east) continue;
      const p = map.latLngToContainerPoint([m.lat, m.lon]);
      if (p.x < -20 || p.y < -20 || p.x > size.x + 20 || p.y > size.y + 20) continue;
      visible.push({ ...m, x: p.x, y: p.y, pinned: m.selected });
    }
    const zoom = map.getZoom();
    this.drawn =
      zoom < CLUSTER_BELOW_ZOOM ? clusterGrid(visible, CELL_PX) : { singles: visible, clusters: [] };
    for (const c of this.drawn.clusters) drawCluster(ctx, c);
    // The selected one on top.
    const singles = [...this.drawn.singles].sort((a, b) => Number(a.selected) - Number(b.selected));
    ctx.font = '12px system-ui, sans-serif';
    for (const m of singles) drawVehicle(ctx, m, zoom >= LABEL_FROM_ZOOM || m.selected);
    this.drawMs = performance.now() - started;
  }

  /** What is under a container point: {vehicle: id} or {cluster} or null. */
  hit(containerPoint) {
    const { x, y } = point(containerPoint);
    for (const c of this.drawn.clusters) {
      if ((c.x - x) ** 2 + (c.y - y) ** 2 <= clusterRadius(c.count) ** 2) return { cluster: c };
    }
    let best = null;
    let bestD = HIT_RADIUS_PX ** 2;
    for (const m of this.drawn.singles) {
      const d = (m.x - x) ** 2 + (m.y - y) ** 2;
      if (d <= bestD) {
        best = m.id;
        bestD = d;
      }
    }
    return best ? { vehicle: best } : null;
  }
}

const clusterRadius = (count) => 12 + Math.min(16, 4 * Math.log10(count) * 2);

/** A cluster: a dark disc with a ring split by staleness (fresh, aging, stale) and the count. */
function drawCluster(ctx, c) {
  const r = clusterRadius(c.count);
  ctx.fillStyle = 'rgb(15 23 32 / 85%)';
  ctx.beginPath();
  ctx.arc(c.x, c.y, r, 0, 2 * Math.PI);
  ctx.fill();
  let start = -Math.PI / 2;
  ctx.lineWidth = 4;
  for (const state of ['fresh', 'aging', 'stale']) {
    if (!c[state]) continue;
    const end = start + (2 * Math.PI * c[state]) / c.count;
    ctx.strokeStyle = COLOURS[state];
    ctx.beginPath();
    ctx.arc(c.x, c.y, r - 2, start, end);
    ctx.stroke();
    start = end;
  }
  ctx.fillStyle = '#e6edf3';
  ctx.font = 'bold 12px system-ui, sans-serif';
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  ctx.fillText(c.count >= 1000 ? `${(c.count / 1000).toFixed(1)}k` : String(c.count), c.x, c.y);
  ctx.textAlign = 'start';
  ctx.textBaseline = 'alphabetic';
}

/** A vehicle: a dot coloured by staleness, a heading tick when known, the id when asked. */
function drawVehicle(ctx, m, label) {
  const colour = COLOURS[m.state];
  const r = m.selected ? 8 : 6;
  if (typeof m.heading === 'number') {
    const a = (m.heading * Math.PI) / 180;
    ctx.strokeStyle = colour;
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(m.x + Math.sin(a) * r, m.y - Math.cos(a) * r);
    ctx.lineTo(m.x + Math.sin(a) * (r + 7), m.y - Math.cos(a) * (r + 7));
    ctx.stroke();
  }
  ctx.fillStyle = colour;
  ctx.beginPath();
  ctx.arc(m.x, m.y, r, 0, 2 * Math.PI);
  ctx.fill();
  ctx.lineWidth = m.selected ? 3 : 1.5;
  ctx.strokeStyle = m.selected ? '#ffffff' : '#0b1118';
  ctx.stroke();
  if (label) {
    ctx.fillStyle = '#e6edf3';
    ctx.fillText(m.id, m.x + r + 4, m.y + 4);
  }
}
