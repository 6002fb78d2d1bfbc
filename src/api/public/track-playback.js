// The selected vehicle's last 24 h: its track on the map and a playback control (the slider, play
// and pause, the speed) moving a marker along it, interpolated between reports.
import * as L from '/vendor/leaflet/leaflet-src.esm.js';
import { COLOURS, sliderTime, trackAt } from './map-logic.js';

const $ = (id) => document.getElementById(id);

export class TrackPlayback {
  constructor(map) {
    this.map = map;
    this.points = [];
    /** The playback time (ms since epoch), or null before the slider is touched. */
    this.ts = null;
    this.playing = false;
    this.line = L.polyline([], {
      className: 'fleet-track',
      color: COLOURS.track,
      weight: 3,
      lineJoin: 'round',
      interactive: false,
    });
    this.start = L.circleMarker([0, 0], {
      className: 'fleet-track-start',
      radius: 4,
      stroke: false,
      fillColor: '#ffffff',
      fillOpacity: 1,
      interactive: false,
    });
    this.marker = L.circleMarker([0, 0], {
      pane: 'playback',
      renderer: L.svg({ pane: 'playback' }),
      className: 'fleet-playback',
      radius: 7,
      color: '#ffffff',
      weight: 2,
      fillColor: COLOURS.track,
      fillOpacity: 1,
      interactive: false,
    });
    this.range = $('playback-range');
    this.range.addEventListener('input', () => this.seek(Number(this.range.value)));
    $('playback-toggle').addEventListener('click', () => (this.playing ? this.pause() : this.play()));
  }

  get length() {
    return this.points.length;
  }

  /** The track to draw: positions {ts, lat, lon, heading?}, oldest first. */
  set(points) {
    this.pause();
    this.points = points;
    this.ts = null;
    this.line.setLatLngs(points.map((p) => [p.lat, p.lon]));
    this.line.addTo(this.map);
    if (points.length > 0) this.start.setLatLng([points[0].lat, points[0].lon]).addTo(this.map);
    this.marker.remove();
    this.range.value = this.range.max;
    $('playback').hidden = points.length < 2;
    this.label();
  }

  /** A live report of the selected vehicle extends the track. */
  push(p) {
    const last = this.points[this.points.length - 1];
    if (last && p.ts <= last.ts) return;
    this.points.push(p);
    this.line.addLatLng([p.lat, p.lon]);
    if (this.points.length === 1) this.start.setLatLng([p.lat, p.lon]).addTo(this.map);
    $('playback').hidden = this.points.length < 2;
    if (this.ts !== null) this.range.value = String(this.valueAt(this.ts));
  }

  clear() {
    this.pause();
    this.points = [];
    this.ts = null;
    this.line.remove();
    this.start.remove();
    this.marker.remove();
    $('playback').hidden = true;
  }

  seek(value) {
    this.show(sliderTime(this.points, value, Number(this.range.max)));
  }

  play() {
    if (this.points.length < 2) return;
    const end = this.points[this.points.length - 1].ts;
    if (this.ts === null || this.ts >= end) this.show(this.points[0].ts);
    this.playing = true;
    $('playback-toggle').textContent = '❚❚';
    $('playback-toggle').title = 'Pause';
    let before = performance.now();
    const step = (now) => {
      if (!this.playing) return;
      const speed = Number($('playback-speed').value);
      this.show(Math.min(end, this.ts + (now - before) * speed));
      this.range.value = String(this.valueAt(this.ts));
      before = now;
      if (this.ts >= this.points[this.points.length - 1].ts) return this.pause();
      requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
  }

  pause() {
    this.playing = false;
    $('playback-toggle').textContent = '▶';
    $('playback-toggle').title = 'Play the last 24 h';
  }

  show(ts) {
    const at = trackAt(this.points, ts);
    if (!at) return;
    this.ts = at.ts;
    this.marker.setLatLng([at.lat, at.lon]).addTo(this.map);
    this.label();
  }

  valueAt(ts) {
    const first = this.points[0].ts;
    const span = this.points[this.points.length - 1].ts - first;
    return span > 0 ? Math.round(((ts - first) / span) * Number(this.range.max)) : 0;
  }

  label() {
    $('playback-time').textContent = this.ts === null ? 'live' : new Date(this.ts).toLocaleTimeString();
  }

  /** For tests: where the playback marker is, in container pixels, and its time. */
  state() {
    if (this.ts === null || !this.map.hasLayer(this.marker)) return null;
    const p = this.map.latLngToContainerPoint(this.marker.getLatLng());
    return { ts: this.ts, x: p.x, y: p.y, playing: this.playing };
  }
}
