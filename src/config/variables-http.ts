import { z } from 'zod';
import { corsOrigins, int, keys } from './variable-schemas.js';
import type { VariableSpec } from './variable-spec.js';

/** The query API, the ingest gateway, the live map and the CLI's API client. */
export const httpVariables = [
  // API, gateway, map
  {
    name: 'HOST',
    schema: z.string().min(1),
    default: '127.0.0.1',
    doc: 'Interface the HTTP servers bind to (0.0.0.0 in containers).',
  },
  { name: 'PORT', schema: int(0, 65_535), default: '8080', doc: 'Query API + live map port.' },
  {
    name: 'GATEWAY_PORT',
    schema: int(0, 65_535),
    default: '5055',
    doc: 'Device ingest (OsmAnd/Traccar Client) port.',
  },
  {
    name: 'MAX_FUTURE_SKEW_MS',
    schema: int(0, 24 * 3600_000),
    default: '30000',
    doc: "Furthest a position's event time may lie ahead of the clock (device clock skew). Beyond it the gateway answers 400 `future_timestamp` and the processor dead-letters the record: the table only moves forward in event time, so a future-dated report would freeze the vehicle until then.",
  },
  {
    name: 'GATEWAY_UNKNOWN_DEVICES',
    schema: z.enum(['accept', 'reject']).optional(),
    doc: 'Devices not in the registry (`fleet devices add`): `reject` answers 403. Default: `accept` when NODE_ENV=development (`fleet dev`), else `reject`.',
  },
  {
    name: 'GATEWAY_DEVICE_CACHE_MS',
    schema: int(0, 3600_000),
    default: '5000',
    doc: 'How long the gateway trusts its in-memory copy of the device registry before reading Redis again.',
  },
  {
    name: 'GATEWAY_DEVICE_RATE',
    schema: z.coerce.number().min(0),
    default: '5',
    doc: 'Requests per second one device id may make at the gateway (token bucket; 0 = no limit). Over it: 429 with Retry-After.',
  },
  {
    name: 'GATEWAY_DEVICE_BURST',
    schema: int(1),
    default: '20',
    doc: 'Requests one device may make at once before GATEWAY_DEVICE_RATE applies.',
  },
  {
    name: 'GATEWAY_ADDRESS_RATE',
    schema: z.coerce.number().min(0),
    default: '100',
    doc: 'Requests per second one source address may make at the gateway (token bucket; 0 = no limit). Over it: 429 with Retry-After.',
  },
  {
    name: 'GATEWAY_ADDRESS_BURST',
    schema: int(1),
    default: '500',
    doc: 'Requests one source address may make at once before GATEWAY_ADDRESS_RATE applies.',
  },
  {
    name: 'API_KEYS',
    schema: keys,
    default: '',
    doc: 'Comma-separated API keys accepted in the `x-api-key` header, each at least 32 characters (shorter ones fail at start).',
    secret: true,
  },
  {
    name: 'API_AUTH',
    schema: z.enum(['required', 'off']).optional(),
    doc: 'Default: `required`, or `off` when NODE_ENV=development / `fleet dev`.',
  },
  {
    name: 'API_CORS_ORIGINS',
    schema: corsOrigins,
    default: '',
    doc: 'Browser origins allowed to call the query API from other sites (CORS), comma-separated, e.g. `https://ops.example.com,http://localhost:5173`; `*` alone allows any origin. Empty (default): no CORS headers, so only same-origin pages (the live map) can read the API.',
  },
  {
    name: 'MAX_SSE_CLIENTS',
    schema: int(1, 100_000),
    default: '500',
    doc: 'Concurrent `/v1/stream` connections.',
  },
  {
    name: 'STREAM_TOKEN_TTL_MS',
    schema: int(10_000, 86_400_000),
    default: '300000',
    doc: 'Lifetime of a stream token from `POST /v1/stream-tokens` (what a browser passes to `/v1/stream` as `?token=` instead of an API key), ms.',
  },
  {
    name: 'STALE_AFTER_MS',
    schema: int(1000),
    default: '60000',
    doc: 'A vehicle not heard from for this long is flagged stale.',
  },
  {
    name: 'API_STATE_REPLICA_MAX_VEHICLES',
    schema: int(0).optional(),
    doc: '`fleet serve` keeps an in-memory replica of the latest-state table, fed by its change feed, and answers `GET /v1/vehicles/:id` from it (Redis while it syncs or after a feed loss); at most this many vehicles (~420 B of heap each: 415 B measured with simulator-shaped states), one more turns the replica off and reads go to Redis. 0 = off. Default: as many as fit in a quarter of the V8 heap limit at 420 B (the image caps the heap at 128 MiB: ~79,900 vehicles; raise `--max-old-space-size` for more). See docs/state.md.',
  },
  {
    name: 'MAP_TILE_URL',
    schema: z
      .string()
      .regex(/^https?:\/\/\S+$/, 'an http(s) URL')
      .refine(
        (url) => ['{z}', '{x}', '{y}'].every((part) => url.includes(part)),
        'a template with {z}, {x} and {y}',
      )
      .optional(),
    doc:
      "Optional raster tiles over the live map's offline Natural Earth background, a URL template " +
      'with {z}/{x}/{y} (and optional {s}), e.g. `https://tile.openstreetmap.org/{z}/{x}/{y}.png`.',
  },
  {
    name: 'MAP_TILE_ATTRIBUTION',
    schema: z.string().optional(),
    doc:
      "Credit line shown under MAP_TILE_URL's tiles (HTML allowed), e.g. " +
      '`&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors`; ' +
      'the tile host when unset.',
  },
  {
    name: 'TRIP_MIN_DISTANCE_M',
    schema: z.coerce.number().min(0),
    default: '500',
    doc: 'A trip covers at least this distance.',
  },
  {
    name: 'STOP_MIN_DURATION_S',
    schema: z.coerce.number().min(0),
    default: '300',
    doc: 'A stop lasts at least this long.',
  },
  {
    name: 'MOVING_MIN_SPEED_KMH',
    schema: z.coerce.number().min(0),
    default: '3',
    doc: 'Below this speed a vehicle counts as stopped.',
  },
  {
    name: 'API_URL',
    schema: z.string().url(),
    default: 'http://127.0.0.1:8080',
    doc: 'Query API the CLI commands `fleet where/nearby/history/summary` call (`--url`).',
  },
  {
    name: 'API_KEY',
    schema: z.string().optional(),
    doc: 'API key those CLI commands send in `x-api-key` (`--api-key`).',
    secret: true,
  },
] as const satisfies readonly VariableSpec[];
