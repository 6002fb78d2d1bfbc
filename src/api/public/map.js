// The live map: every vehicle from GET /v1/vehicles, then live over SSE; click for details and
// the last 24 h track. Plain ES modules, no build step, no CDN.
import { Api, initialKey, saveKey, Unauthorized } from './api.js';
import { installPanZoom, nearestMarker } from './controls.js';
import { exposeState } from './inspect.js';
import { DetailsPanel } from './panel.js';
import { Viewport } from './projection.js';
import { COLOURS, drawGrid, drawMarkers, drawTrack, staleness, TileLayer } from './render.js';

const $ = (id) => document.getElementById(id);
const ANIMATION_MS = 700;
const HIT_RADIUS_PX = 12;

const state = {
  api: new Api(initialKey()),
  settings: { staleAfterMs: 60_000, tileUrl: null },
  /** id → { v (latest JSON), seenAt (local ms when ageMs was measured), from, to, start } */
  vehicles: new Map(),
  selected: null,
  track: [],
  updates: [],
  totalUpdates: 0,
  onScreen: [],
  ready: false,
  fitted: false,
  source: null,
  startedAt: performance.now(),
};

const view = new Viewport();
const canvas = $('canvas');
const ctx = canvas.getContext('2d');
let base = { draw: drawGrid };
let dirty = true;
/** Markers glide until then (performance.now() ms). */
let animatingUntil = 0;

const ageOf = (entry) => entry.v.ageMs + (performance.now() - entry.seenAt);

function upsert(v, animate) {
  const now = performance.now();
  const entry = state.vehicles.get(v.vehicleId);
  if (entry && entry.v.ts > v.ts) return;
  const here = entry ? positionOf(entry, now) : { lat: v.lat, lon: v.lon };
  const moving = animate && entry && state.vehicles.size <= 3000;
  state.vehicles.set(v.vehicleId, { v, seenAt: now, from: moving ? here : null, start: now });
  if (moving) animatingUntil = now + ANIMATION_MS;
  if (state.selected === v.vehicleId) {
    state.track.push({ lat: v.lat, lon: v.lon });
    panel.show(v, v.ageMs, state.settings.staleAfterMs);
  }
  dirty = true;
}

/** Where a marker is drawn: gliding from its previous spot for ANIMATION_MS. */
function positionOf(entry, now) {
  if (!entry.from) return { lat: entry.v.lat, lon: entry.v.lon };
  const t = Math.min(1, (now - entry.start) / ANIMATION_MS);
  if (t >= 1) {
    entry.from = null;
    return { lat: entry.v.lat, lon: entry.v.lon };
  }
  return {
    lat: entry.from.lat + (entry.v.lat - entry.from.lat) * t,
    lon: entry.from.lon + (entry.v.lon - entry.from.lon) * t,
  };
}

function resize() {
  const rect = canvas.parentElement.getBoundingClientRect();
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.round(rect.width * dpr);
  canvas.height = Math.round(rect.height * dpr);
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  view.resize(rect.width, rect.height);
  dirty = true;
}

function frame() {
  const now = performance.now();
  if (dirty || now <= animatingUntil + 100) {
    base.draw(ctx, view);
    if (state.selected) drawTrack(ctx, view, state.track);
    const markers = [];
    for (const [id, entry] of state.vehicles) {
      const p = positionOf(entry, now);
      markers.push({
        id,
        lat: p.lat,
        lon: p.lon,
        heading: entry.v.heading,
        colour: COLOURS[staleness(ageOf(entry), state.settings.staleAfterMs)],
        selected: id === state.selected,
      });
    }
    // The selected one on top.
    markers.sort((a, b) => Number(a.selected) - Number(b.selected));
    state.onScreen = drawMarkers(ctx, view, markers, view.zoom >= 15);
    dirty = false;
  }
  requestAnimationFrame(frame);
}

function updateCounters() {
  const now = performance.now();
  state.updates = state.updates.filter((t) => now - t < 5000);
  let stale = 0;
  for (const entry of state.vehicles.values()) {
    if (ageOf(entry) >= state.settings.staleAfterMs) stale++;
  }
  $('count-vehicles').textContent = String(state.vehicles.size);
  $('count-stale').textContent = String(stale);
  const windowS = Math.min(5, Math.max(1, (now - state.startedAt) / 1000));
  $('count-rate').textContent = (state.updates.length / windowS).toFixed(1);
  // Ages move on even without updates: recolour once a second.
  dirty = true;
  const selected = state.selected && state.vehicles.get(state.selected);
  if (selected) panel.show(selected.v, ageOf(selected), state.settings.staleAfterMs);
}

const panel = new DetailsPanel(() => select(null));

async function select(id) {
  state.selected = id;
  state.track = [];
  dirty = true;
  if (!id) return panel.hide();
  let entry = state.vehicles.get(id);
  if (!entry) {
    const v = await guarded(() => state.api.vehicle(id));
    if (!v) return;
    upsert(v, false);
    entry = state.vehicles.get(id);
  }
  panel.show(entry.v, ageOf(entry), state.settings.staleAfterMs);
  panel.trackLoading();
  try {
    const [history, summary] = await Promise.all([
      state.api.history(id),
      state.api.summary(id).catch(() => null),
    ]);
    if (state.selected !== id) return;
    state.track = history.positions.map((p) => ({ lat: p.lat, lon: p.lon }));
    panel.track(state.track.length);
    panel.summary(summary);
  } catch (err) {
    if (err instanceof Unauthorized) return askForKey(err.message);
    panel.track(0, err.message);
  }
  dirty = true;
}

async function search(text) {
  const query = text.trim();
  $('search-message').textContent = '';
  if (!query) return;
  let id = state.vehicles.has(query) ? query : null;
  if (!id) {
    const matches = [...state.vehicles.keys()].filter((k) => k.toLowerCase().startsWith(query.toLowerCase()));
    if (matches.length === 1) id = matches[0];
  }
  if (!id) {
    const v = await guarded(() => state.api.vehicle(query));
    if (!v) {
      $('search-message').textContent = `no vehicle '${query}'`;
      return;
    }
    upsert(v, false);
    id = v.vehicleId;
  }
  const v = state.vehicles.get(id).v;
  view.lat = v.lat;
  view.lon = v.lon;
  view.zoom = Math.max(view.zoom, 14);
  await select(id);
}

async function guarded(call) {
  try {
    return await call();
  } catch (err) {
    if (err instanceof Unauthorized) askForKey(err.message);
    else $('search-message').textContent = err.message;
    return null;
  }
}

function askForKey(message) {
  $('connection').dataset.state = 'unauthorized';
  $('connection').textContent = 'API key needed';
  $('key-error').textContent = state.api.key ? message : '';
  $('key-dialog').hidden = false;
  $('key-input').focus();
}

function connect() {
  state.source?.close();
  state.source = state.api.stream({
    onReady: () => void loadAll(),
    onPosition: (v) => {
      state.updates.push(performance.now());
      state.totalUpdates++;
      upsert(v, true);
    },
    onState: (s) => {
      $('connection').dataset.state = s;
      $('connection').textContent = s === 'closed' ? 'disconnected' : s;
      if (s === 'closed') void reconnectLater();
    },
  });
}

/** The server refused the stream: ask for a key if that is why, else try again shortly. */
async function reconnectLater() {
  try {
    await state.api.get('/v1/vehicles?limit=1');
  } catch (err) {
    if (err instanceof Unauthorized) return askForKey(err.message);
  }
  setTimeout(connect, 5000);
}

/** Loads every vehicle once the stream is live, so no change falls between the two. */
async function loadAll() {
  try {
    for (const v of await state.api.allVehicles()) upsert(v, false);
    if (!state.fitted && state.vehicles.size > 0) {
      view.fit([...state.vehicles.values()].map((e) => e.v));
      state.fitted = true;
    }
    state.ready = true;
    dirty = true;
  } catch (err) {
    if (err instanceof Unauthorized) askForKey(err.message);
  }
}

function installControls() {
  const map = $('map');
  installPanZoom({
    map,
    canvas,
    view,
    buttons: { zoomIn: $('zoom-in'), zoomOut: $('zoom-out'), fit: $('zoom-fit') },
    onChange: () => (dirty = true),
    onClick: (x, y) => void select(nearestMarker(state.onScreen, x, y, HIT_RADIUS_PX)),
    onFit: () => view.fit([...state.vehicles.values()].map((e) => e.v)),
  });
  $('search').addEventListener('submit', (e) => {
    e.preventDefault();
    void search($('search-input').value);
  });
  $('key-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const key = $('key-input').value.trim();
    saveKey(key);
    state.api = new Api(key);
    $('key-dialog').hidden = true;
    connect();
  });
  // The details panel opening narrows the map: follow the element, not only the window.
  new ResizeObserver(resize).observe(map);
}

async function start() {
  resize();
  installControls();
  try {
    state.settings = await state.api.settings();
  } catch {
    // Defaults: grid, 60 s staleness.
  }
  if (state.settings.tileUrl) {
    base = new TileLayer(state.settings.tileUrl, () => (dirty = true));
    $('attribution').textContent =
      `tiles: ${new URL(state.settings.tileUrl.replace(/[{}]/g, ''), location.href).host}`;
  } else {
    $('attribution').textContent = 'no base map configured (MAP_TILE_URL): coordinate grid';
  }
  connect();
  setInterval(updateCounters, 1000);
  requestAnimationFrame(frame);
}

exposeState(state, canvas);
void start();
