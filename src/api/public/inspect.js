// `window.fleetMap`: read-only views of what the page shows, for tests and the curious.

export function exposeState(state, canvas) {
  window.fleetMap = {
    get ready() {
      return state.ready;
    },
    get totalUpdates() {
      return state.totalUpdates;
    },
    get selected() {
      return state.selected;
    },
    get trackLength() {
      return state.track.length;
    },
    vehicleCount: () => state.vehicles.size,
    /** Marker positions as drawn on the last frame, in page coordinates. */
    markers: () => {
      const rect = canvas.getBoundingClientRect();
      return state.onScreen.map((m) => ({ id: m.id, x: m.x + rect.left, y: m.y + rect.top }));
    },
    vehicle: (id) => state.vehicles.get(id)?.v ?? null,
  };
}
