// `window.fleetMap`: read-only views of what the page shows, for tests and the curious, plus
// `view()` and `pointOf()` so a test can look at a known place.

export function exposeState(state, { map, layer, track, geofences, feed }) {
  const toPage = (p) => {
    const rect = map.getContainer().getBoundingClientRect();
    return { x: p.x + rect.left, y: p.y + rect.top };
  };
  window.fleetMap = {
    get ready() {
      return state.ready;
    },
    get baseReady() {
      return state.baseReady;
    },
    get totalUpdates() {
      return state.totalUpdates;
    },
    get selected() {
      return state.selected;
    },
    get trackLength() {
      return track.length;
    },
    get zoom() {
      return map.getZoom();
    },
    /** Milliseconds the last drawing of the vehicles took. */
    get drawMs() {
      return layer.drawMs;
    },
    vehicleCount: () => state.vehicles.size,
    /** Vehicles drawn on their own on the last frame, in page coordinates. */
    markers: () => layer.drawn.singles.map((m) => ({ id: m.id, ...toPage(m) })),
    /** Clusters drawn on the last frame, in page coordinates, with their member counts. */
    clusters: () => layer.drawn.clusters.map((c) => ({ count: c.count, ...toPage(c) })),
    /** The playback marker: its time and page position, or null while it is hidden. */
    playback: () => {
      const s = track.state();
      return s && { ...s, ...toPage(s) };
    },
    /** Where a place is on the page now. */
    pointOf: (lat, lon) => toPage(map.latLngToContainerPoint([lat, lon])),
    /** Jumps to a place without animation. */
    view: (lat, lon, zoom) => void map.setView([lat, lon], zoom, { animate: false }),
    vehicle: (id) => state.vehicles.get(id)?.v ?? null,
    get feedLive() {
      return feed.live;
    },
    /** Geofences drawn: id, name and bounds. */
    geofences: () => geofences.drawn(),
    /** The event feed as shown, newest first: id, type, vehicle and its text. */
    feed: () =>
      [...document.querySelectorAll('#event-list li')].map((li) => ({
        id: li.dataset.id,
        type: li.dataset.type,
        vehicleId: li.querySelector('b').textContent,
        text: li.querySelector('span').textContent,
      })),
  };
}
