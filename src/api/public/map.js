// The live map: every vehicle from GET /v1/vehicles, then live over SSE; click for details, the
// last 24 h track and its playback; geofences under the vehicles and the live event feed. Leaflet and the Natural Earth background come from /vendor:
// plain ES modules, no build step, no CDN.
import { latLngBounds } from '/vendor/leaflet/leaflet-src.esm.js';
import { Api, initialKey, saveKey, Unauthorized } from './api.js';
import { addButton, createBaseMap } from './base-map.js';
import { exposeState } from './inspect.js';
import { glide, staleness } from './map-logic.js';
import { EventFeed } from './event-feed.js';
import { GeofenceLayer } from './geofence-layer.js';
import { DetailsPanel } from './panel.js';
import { TrackPlayback } from './track-playback.js';
import { VehicleLayer } from './vehicle-layer.js';

const $ = (id) => document.getElementById(id);
const ANIMATION_MS = 700;

const state = {
  api: new Api(initialKey()),
  settings: { staleAfterMs: 60_000, tileUrl: null, tileAttribution: null },
  /** id → { v (latest JSON), seenAt (local ms when ageMs was measured), from, start } */
  vehicles: new Map(),
  selected: null,
  updates: [],
  totalUpdates: 0,
  ready: false,
  baseReady: false,
  fitted: false,
  source: null,
  /** Bumped by each connect(), so a slower earlier one drops its stream. */
  connects: 0,
  startedAt: performance.now(),
};

let map;
let layer;
let track;
let geofences;
let feed;
let dirty = true;
/** Markers glide until then (performance.now() ms). */
let animatingUntil = 0;

const ageOf = (entry) => entry.v.ageMs + (performance.now() - entry.seenAt);
const toPoint = (v) => ({ ts: v.ts, lat: v.lat, lon: v.lon, heading: v.heading });

function upsert(v, animate) {
  const now = performance.now();
  const entry = state.vehicles.get(v.vehicleId);
  if (entry && entry.v.ts > v.ts) return;
  const here = entry ? positionOf(entry, now) : null;
  const moving = animate && entry && state.vehicles.size <= 3000;
  state.vehicles.set(v.vehicleId, { v, seenAt: now, from: moving ? here : null, start: now });
  if (moving) animatingUntil = now + ANIMATION_MS;
  if (state.selected === v.vehicleId) {
    track?.push(toPoint(v));
    panel.show(v, v.ageMs, state.settings.staleAfterMs);
  }
  dirty = true;
}

/** Where a marker is drawn: gliding from its previous spot for ANIMATION_MS. */
function positionOf(entry, now) {
  const t = entry.from ? (now - entry.start) / ANIMATION_MS : 1;
  if (t >= 1) entry.from = null;
  return glide(entry.from, entry.v, t);
}

function* markers() {
  const now = performance.now();
  for (const [id, entry] of state.vehicles) {
    const p = positionOf(entry, now);
    yield {
      id,
      lat: p.lat,
      lon: p.lon,
      heading: entry.v.heading,
      state: staleness(ageOf(entry), state.settings.staleAfterMs),
      selected: id === state.selected,
    };
  }
}

function frame() {
  if (dirty || performance.now() <= animatingUntil + 100) {
    layer.draw();
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
  track.clear();
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
    const points = history.positions.map(toPoint);
    const latest = toPoint(state.vehicles.get(id).v);
    if (points.length === 0 || latest.ts > points[points.length - 1].ts) points.push(latest);
    track.set(points);
    panel.track(track.length);
    panel.summary(summary);
  } catch (err) {
    if (err instanceof Unauthorized) return askForKey(err.message);
    panel.track(0, err.message);
  }
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
  map.setView([v.lat, v.lon], Math.max(map.getZoom(), 14), { animate: false });
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

/** An event of the feed was clicked: centre its vehicle (or where the event happened) and select it. */
function focusVehicle(id, event) {
  const v = state.vehicles.get(id)?.v ?? event;
  if (typeof v.lat === 'number') map.setView([v.lat, v.lon], Math.max(map.getZoom(), 14), { animate: false });
  void select(id);
}

async function connect() {
  void feed.connect(state.api);
  state.source?.close();
  state.source = null;
  const attempt = ++state.connects;
  const handlers = {
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
  };
  let source;
  try {
    source = await state.api.stream(handlers);
  } catch (err) {
    if (err instanceof Unauthorized) return askForKey(err.message);
    handlers.onState('closed');
    return;
  }
  // A newer connect() (a new key) superseded this one while its token was on the way.
  if (attempt !== state.connects) source.close();
  else state.source = source;
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
      fitAll();
      state.fitted = true;
    }
    state.ready = true;
    dirty = true;
  } catch (err) {
    if (err instanceof Unauthorized) askForKey(err.message);
  }
}

function fitAll() {
  if (state.vehicles.size === 0) return;
  const bounds = latLngBounds([...state.vehicles.values()].map((e) => [e.v.lat, e.v.lon]));
  map.fitBounds(bounds, { padding: [40, 40], maxZoom: 15, animate: false });
}

function installControls() {
  addButton(map, { text: '⤢', title: 'Show every vehicle', id: 'zoom-fit', onClick: fitAll });
  map.on('click', (e) => {
    const hit = layer.hit(e.containerPoint);
    if (hit?.cluster) {
      const c = hit.cluster;
      map.fitBounds(
        [
          [c.south, c.west],
          [c.north, c.east],
        ],
        { padding: [60, 60], maxZoom: 16 },
      );
    } else void select(hit?.vehicle ?? null);
  });
  map.on('mousemove', (e) => {
    map.getContainer().classList.toggle('over-vehicle', layer.hit(e.containerPoint) !== null);
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
    void connect();
  });
  // The details panel opening narrows the map: follow the element, not only the window.
  new ResizeObserver(() => map.invalidateSize({ pan: false })).observe($('map'));
}

async function start() {
  // The stream's token is fetched while the page loads its background, not after it.
  state.api.prefetchStreamToken();
  try {
    state.settings = { ...state.settings, ...(await state.api.settings()) };
  } catch {
    // Defaults: the offline background, 60 s staleness.
  }
  const base = createBaseMap($('map'), state.settings);
  map = base.map;
  base.ready.then(
    () => (state.baseReady = true),
    (err) => ($('search-message').textContent = `base map: ${err.message}`),
  );
  layer = new VehicleLayer(markers).addTo(map);
  track = new TrackPlayback(map);
  geofences = new GeofenceLayer(map, () => state.api).start();
  feed = new EventFeed($('event-list'), focusVehicle);
  installControls();
  exposeState(state, { map, layer, track, geofences, feed });
  void connect();
  setInterval(updateCounters, 1000);
  requestAnimationFrame(frame);
}

void start();
