// The event feed: vehicle events from /v1/events/stream (SSE), newest on top; a click focuses the
// vehicle on the map.

const MAX_ITEMS = 100;
const LABELS = {
  geofence_enter: 'entered',
  geofence_exit: 'left',
  overspeed: 'overspeed',
  overspeed_end: 'speed ok',
  trip_start: 'trip start',
  trip_end: 'trip end',
  offline: 'offline',
  online: 'online',
  battery_low: 'battery low',
};

/** A short line of what happened: the type and its most telling field. */
export function describeEvent(e) {
  const what = LABELS[e.type] ?? e.type;
  if (e.geofenceName || e.geofenceId) return `${what} ${e.geofenceName ?? e.geofenceId}`;
  if (e.type === 'overspeed' || e.type === 'overspeed_end')
    return `${what} ${Math.round(e.maxSpeedKmh ?? e.speedKmh ?? 0)}/${Math.round(e.limitKmh ?? 0)} km/h`;
  if (e.type === 'trip_end' && typeof e.distanceM === 'number')
    return `${what} ${(e.distanceM / 1000).toFixed(1)} km`;
  if (e.type === 'battery_low') return `${what} ${e.battery ?? ''}%`;
  return what;
}

export class EventFeed {
  /** `list`: the <ol>; `onFocus(vehicleId)`: a click on an event. */
  constructor(list, onFocus) {
    this.list = list;
    this.onFocus = onFocus;
    this.events = [];
    this.source = null;
    /** Whether the stream is open (its `ready` arrived): events committed from then on show. */
    this.live = false;
  }

  /**
   * Opens (or reopens) the stream. With a key, a short-lived stream token is fetched first (the key
   * never goes into a URL); a stream refused later (token expired) is reopened with a new one.
   */
  async connect(api) {
    this.source?.close();
    this.live = false;
    const token = api.key ? await api.streamToken().catch(() => null) : null;
    const query = token ? `?token=${encodeURIComponent(token)}` : '';
    const source = new EventSource(`/v1/events/stream${query}`);
    this.source = source;
    source.addEventListener('ready', () => (this.live = true));
    source.addEventListener('error', () => {
      this.live = false;
      if (source.readyState === EventSource.CLOSED && this.source === source) {
        setTimeout(() => void this.connect(api), 2000);
      }
    });
    source.addEventListener('vehicle_event', (m) => this.add(JSON.parse(m.data)));
  }

  add(e) {
    if (this.events.some((x) => x.id === e.id)) return;
    this.events.unshift(e);
    if (this.events.length > MAX_ITEMS) this.events.pop();
    const li = document.createElement('li');
    li.dataset.type = e.type;
    li.dataset.id = e.id;
    li.title = new Date(e.ts).toISOString();
    const time = document.createElement('time');
    time.textContent = new Date(e.ts).toLocaleTimeString();
    const vehicle = document.createElement('b');
    vehicle.textContent = e.vehicleId;
    const what = document.createElement('span');
    what.textContent = describeEvent(e);
    li.append(time, vehicle, what);
    li.addEventListener('click', () => this.onFocus(e.vehicleId, e));
    this.list.prepend(li);
    while (this.list.children.length > MAX_ITEMS) this.list.lastElementChild.remove();
  }
}
