// The map's HTTP side: the API key (from ?key= or localStorage), JSON calls and the live stream.

const KEY_STORAGE = 'fleet.apiKey';

export class Unauthorized extends Error {}

/** Takes `?key=` from the address (then hides it) or the remembered one. */
export function initialKey() {
  const url = new URL(window.location.href);
  const fromUrl = url.searchParams.get('key');
  if (fromUrl) {
    saveKey(fromUrl);
    url.searchParams.delete('key');
    window.history.replaceState(null, '', url.pathname + url.search + url.hash);
    return fromUrl;
  }
  try {
    return window.localStorage.getItem(KEY_STORAGE) ?? '';
  } catch {
    return '';
  }
}

export function saveKey(key) {
  try {
    window.localStorage.setItem(KEY_STORAGE, key);
  } catch {
    // Private mode: the key lives for this page only.
  }
}

export class Api {
  constructor(key) {
    this.key = key;
  }

  async get(path) {
    const res = await fetch(path, { headers: this.key ? { 'x-api-key': this.key } : {} });
    if (res.status === 401) throw new Unauthorized((await res.json()).message);
    if (res.status === 404) return null;
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
    return res.json();
  }

  /** Starts fetching the next stream token now; the next stream() uses it. */
  prefetchStreamToken() {
    if (this.key) this.nextToken = this.streamToken().catch(() => null);
  }

  async streamToken() {
    const res = await fetch('/v1/stream-tokens', { method: 'POST', headers: { 'x-api-key': this.key } });
    if (res.status === 401) throw new Unauthorized((await res.json()).message);
    if (!res.ok) throw new Error(`/v1/stream-tokens: HTTP ${res.status}`);
    return (await res.json()).token;
  }

  settings() {
    return this.get('/map-config.json');
  }

  /** Every current vehicle, following the pages. */
  async allVehicles() {
    const out = [];
    let cursor = null;
    do {
      const query = new URLSearchParams({ limit: '1000' });
      if (cursor) query.set('cursor', cursor);
      const page = await this.get(`/v1/vehicles?${query}`);
      out.push(...page.vehicles);
      cursor = page.nextCursor;
    } while (cursor);
    return out;
  }

  vehicle(id) {
    return this.get(`/v1/vehicles/${encodeURIComponent(id)}`);
  }

  history(id) {
    return this.get(`/v1/vehicles/${encodeURIComponent(id)}/history`);
  }

  summary(id) {
    return this.get(`/v1/vehicles/${encodeURIComponent(id)}/summary`);
  }

  /**
   * Opens the live stream. EventSource cannot send headers and an API key must never sit in a URL,
   * so with a key it first asks for a short-lived stream token (POST /v1/stream-tokens) and passes
   * that. A token only opens streams for a few minutes: when a stream is refused later, the caller
   * reconnects, which fetches a fresh one. `handlers`: onReady, onPosition(vehicle), onState(state).
   */
  async stream(handlers) {
    const prefetched = this.nextToken;
    this.nextToken = null;
    const token = this.key ? ((await prefetched) ?? (await this.streamToken())) : null;
    const query = token ? `?token=${encodeURIComponent(token)}` : '';
    const source = new EventSource(`/v1/stream${query}`);
    source.addEventListener('ready', () => {
      handlers.onState('live');
      handlers.onReady();
    });
    source.addEventListener('position', (e) => handlers.onPosition(JSON.parse(e.data)));
    source.addEventListener('error', () => {
      // EventSource retries by itself; a closed source means the server refused (401/503).
      handlers.onState(source.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting');
    });
    return source;
  }
}
