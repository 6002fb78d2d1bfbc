// The details panel of the selected vehicle.
import { staleness } from './map-logic.js';

const $ = (id) => document.getElementById(id);

export function formatAge(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

function fill(dl, rows) {
  dl.replaceChildren();
  for (const [label, value] of rows) {
    if (value === undefined || value === null || value === '') continue;
    const dt = document.createElement('dt');
    dt.textContent = label;
    const dd = document.createElement('dd');
    dd.textContent = String(value);
    dl.append(dt, dd);
  }
}

const fixed = (n, d) => (typeof n === 'number' ? n.toFixed(d) : undefined);
const duration = (s) => (s >= 3600 ? `${(s / 3600).toFixed(1)} h` : `${Math.round(s / 60)} min`);

export class DetailsPanel {
  constructor(onClose) {
    this.root = $('details');
    $('details-close').addEventListener('click', onClose);
  }

  show(v, ageMs, staleAfterMs) {
    this.root.hidden = false;
    this.root.dataset.vehicle = v.vehicleId;
    $('details-title').textContent = v.vehicleId;
    const age = $('details-age');
    age.textContent = `last seen ${formatAge(ageMs)} · ${new Date(v.ts).toLocaleString()}`;
    age.dataset.state = staleness(ageMs, staleAfterMs);
    const attributes = v.attributes ? Object.entries(v.attributes).map(([k, val]) => [k, val]) : [];
    fill($('details-fields'), [
      ['position', `${v.lat.toFixed(5)}, ${v.lon.toFixed(5)}`],
      ['speed', fixed(v.speed, 1) && `${fixed(v.speed, 1)} km/h`],
      ['heading', fixed(v.heading, 0) && `${fixed(v.heading, 0)}°`],
      ['altitude', fixed(v.altitude, 0) && `${fixed(v.altitude, 0)} m`],
      ['accuracy', fixed(v.accuracy, 0) && `${fixed(v.accuracy, 0)} m`],
      ['battery', fixed(v.battery, 0) && `${fixed(v.battery, 0)} %`],
      ['partition/offset', `${v.partition}/${v.offset}`],
      ...attributes,
    ]);
  }

  trackLoading() {
    $('details-track').textContent = 'loading…';
    this.root.dataset.track = '';
    fill($('details-summary'), []);
  }

  track(count, error) {
    const el = $('details-track');
    el.textContent = error
      ? `history unavailable: ${error}`
      : count === 0
        ? 'no positions in the last 24 h'
        : `${count} positions drawn on the map`;
    this.root.dataset.track = String(count);
  }

  summary(s) {
    if (!s) return;
    fill($('details-summary'), [
      ['distance', `${(s.distanceM / 1000).toFixed(2)} km`],
      ['moving', duration(s.movingS)],
      ['stopped', duration(s.stoppedS)],
      ['avg speed', fixed(s.avgSpeedKmh, 1) && `${fixed(s.avgSpeedKmh, 1)} km/h`],
      ['max speed', fixed(s.maxSpeedKmh, 1) && `${fixed(s.maxSpeedKmh, 1)} km/h`],
      ['trips', s.trips],
      ['stops', s.stops],
    ]);
  }

  hide() {
    this.root.hidden = true;
    delete this.root.dataset.vehicle;
  }
}
