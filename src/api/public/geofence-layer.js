// Geofences (GET /v1/geofences: GeoJSON Features) drawn under the vehicles, refreshed periodically;
// a Point with properties.radius_m is a circle.
import * as L from '/vendor/leaflet/leaflet-src.esm.js';

const STYLE = { color: '#a78bfa', weight: 2, opacity: 0.9, fillColor: '#a78bfa', fillOpacity: 0.12 };
const REFRESH_MS = 30_000;

export class GeofenceLayer {
  constructor(map, api) {
    map.createPane('geofences').style.zIndex = '300';
    this.api = api;
    this.text = '';
    this.features = [];
    this.layer = L.geoJSON(null, {
      pane: 'geofences',
      style: () => STYLE,
      pointToLayer: (feature, latlng) =>
        L.circle(latlng, { ...STYLE, pane: 'geofences', radius: feature.properties?.radius_m ?? 0 }),
      onEachFeature: (feature, layer) => {
        const p = feature.properties ?? {};
        const limit = p.speedLimitKmh ? ` · ${p.speedLimitKmh} km/h` : '';
        layer.bindTooltip(`${p.name ?? feature.id}${limit}`, { sticky: true });
      },
    }).addTo(map);
  }

  /** Loads now and every REFRESH_MS; redraws only when the set changed. */
  start() {
    void this.refresh();
    setInterval(() => void this.refresh(), REFRESH_MS);
    return this;
  }

  async refresh() {
    let answer;
    try {
      answer = await this.api().get('/v1/geofences');
    } catch {
      return; // Not served (yet) or not authorised: the map works without geofences.
    }
    const features = answer?.geofences ?? [];
    const text = JSON.stringify(features);
    if (text === this.text) return;
    this.text = text;
    this.features = features;
    this.layer.clearLayers();
    if (features.length > 0) this.layer.addData({ type: 'FeatureCollection', features });
  }

  /** What is drawn: id, name and the page-independent bounds of each geofence. */
  drawn() {
    return this.layer.getLayers().map((l) => {
      const b = l.getBounds();
      return {
        id: l.feature.id,
        name: l.feature.properties?.name ?? null,
        south: b.getSouth(),
        west: b.getWest(),
        north: b.getNorth(),
        east: b.getEast(),
      };
    });
  }
}
