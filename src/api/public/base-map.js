// The Leaflet map and its background: Natural Earth land, coastlines and borders (world-atlas,
// 1:110m and 1:50m, served from /vendor: works offline), our own graticule, and raster tiles over them when
// MAP_TILE_URL is set, so a missing tile still shows land.
import * as L from '/vendor/leaflet/leaflet-src.esm.js';
import { graticuleLines, graticuleStep } from './map-logic.js';

const NATURAL_EARTH = 'Natural Earth via <a href="https://github.com/topojson/world-atlas">world-atlas</a>';
const STYLE = {
  land: { stroke: true, color: '#3d5569', weight: 1, fill: true, fillColor: '#1d2b38', fillOpacity: 1 },
  borders: { color: '#4a6275', weight: 0.8, opacity: 0.8, dashArray: '3 3', fill: false },
  graticule: { color: '#22364a', weight: 1, opacity: 0.9, fill: false },
  equator: { color: '#2e4a63', weight: 1, opacity: 1, fill: false },
};

/** Panes, bottom to top: background (150) < graticule (160) < tiles (200) < track (400) < vehicles. */
function createPanes(map) {
  const panes = { background: 150, graticule: 160, vehicles: 450, playback: 460 };
  for (const [name, z] of Object.entries(panes)) map.createPane(name).style.zIndex = String(z);
  map.getPane('vehicles').style.pointerEvents = 'none';
}

/**
 * Builds the map in `container` with the offline background (loading in the background; `ready`
 * resolves once land and borders are drawn) and, given `settings.tileUrl`, the raster tiles.
 */
export function createBaseMap(container, settings) {
  const map = L.map(container, { minZoom: 2, maxZoom: 19, worldCopyJump: false, zoomSnap: 0.5 });
  createPanes(map);
  map.attributionControl.setPrefix(
    '<a href="https://leafletjs.com" title="A JavaScript library for interactive maps">Leaflet</a>',
  );
  map.setView([30, 0], 2);
  installGraticule(map);
  if (settings.tileUrl) addTiles(map, settings);
  const ready = loadNaturalEarth(map);
  return { map, ready };
}

/** Below this zoom the 1:110m shapes (a tenth of the points) are drawn; from it on, 1:50m. */
export const DETAIL_FROM_ZOOM = 4;

/**
 * Land and borders at two scales. Leaflet re-projects every point of every layer on the map at
 * each zoom change, so the coarse world view keeps zooming cheap; the 1:50m layer is on the map
 * (and projected) only from DETAIL_FROM_ZOOM on.
 */
async function loadNaturalEarth(map) {
  const renderer = L.canvas({ pane: 'background', padding: 0.5 });
  const [coarse, fine] = await Promise.all([naturalEarth('110m', renderer), naturalEarth('50m', renderer)]);
  const show = () => {
    const [on, off] = map.getZoom() < DETAIL_FROM_ZOOM ? [coarse, fine] : [fine, coarse];
    if (map.hasLayer(off)) off.remove();
    if (!map.hasLayer(on)) on.addTo(map);
  };
  map.on('zoomend', show);
  show();
  map.attributionControl.addAttribution(NATURAL_EARTH);
}

async function naturalEarth(scale, renderer) {
  const [land, countries] = await Promise.all([
    fetchJson(`/vendor/world-atlas/land-${scale}.json`),
    fetchJson(`/vendor/world-atlas/countries-${scale}.json`),
  ]);
  // One layer per polygon, not one MultiPolygon, so the renderer skips what is off screen.
  const shapes = window.topojson.feature(land, land.objects.land);
  const polygons = shapes.features.flatMap((f) =>
    f.geometry.type === 'MultiPolygon'
      ? f.geometry.coordinates.map((coordinates) => ({ type: 'Polygon', coordinates }))
      : [f.geometry],
  );
  const options = (style) => ({ renderer, interactive: false, style: () => style });
  // Borders between two countries only: the coast is the land's outline already.
  const borders = window.topojson.mesh(countries, countries.objects.countries, (a, b) => a !== b);
  return L.layerGroup([L.geoJSON(polygons, options(STYLE.land)), L.geoJSON(borders, options(STYLE.borders))]);
}

async function fetchJson(url) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.json();
}

/** Meridians and parallels every 10° when zoomed out, finer when zoomed in, redrawn after moves. */
function installGraticule(map) {
  const renderer = L.canvas({ pane: 'graticule', padding: 0.5 });
  const group = L.layerGroup().addTo(map);
  const redraw = () => {
    const b = map.getBounds().pad(0.5);
    const bounds = { south: b.getSouth(), west: b.getWest(), north: b.getNorth(), east: b.getEast() };
    group.clearLayers();
    for (const line of graticuleLines(bounds, graticuleStep(map.getZoom()))) {
      const style = line.value === 0 ? STYLE.equator : STYLE.graticule;
      group.addLayer(L.polyline(line.points, { ...style, renderer, interactive: false }));
    }
  };
  map.on('moveend', redraw);
  redraw();
}

function addTiles(map, settings) {
  const host = new URL(settings.tileUrl.replace(/[{}]/g, ''), location.href).host;
  const attribution = settings.tileAttribution || `tiles: ${escapeHtml(host)}`;
  const tiles = L.tileLayer(settings.tileUrl, { attribution, maxZoom: 19, subdomains: 'abc' });
  // A tile that fails stays invisible: the land underneath shows instead of a broken image.
  tiles.on('tileerror', (e) => (e.tile.style.visibility = 'hidden'));
  tiles.addTo(map);
}

const escapeHtml = (text) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A map button (top left, under the zoom buttons): `onClick` when pressed. */
export function addButton(map, { text, title, id, onClick }) {
  const Button = L.Control.extend({
    onAdd() {
      const bar = L.DomUtil.create('div', 'leaflet-bar');
      const a = L.DomUtil.create('a', 'fleet-button', bar);
      a.href = '#';
      a.id = id;
      a.title = title;
      a.setAttribute('role', 'button');
      a.textContent = text;
      L.DomEvent.disableClickPropagation(bar);
      L.DomEvent.on(a, 'click', (e) => {
        L.DomEvent.preventDefault(e);
        onClick();
      });
      return bar;
    },
  });
  new Button({ position: 'topleft' }).addTo(map);
}
