import type { ConfigValues } from './values.js';

export interface ApiConfig {
  host: string;
  port: number;
  gatewayPort: number;
  apiKeys: readonly string[];
  authRequired: boolean;
  maxSseClients: number;
  /** Lifetime of a stream token (STREAM_TOKEN_TTL_MS). */
  streamTokenTtlMs: number;
  staleAfterMs: number;
  /** API_STATE_REPLICA_MAX_VEHICLES: 0 = no replica; undefined = sized from the heap limit. */
  stateReplicaMaxVehicles?: number;
  /**
   * Origins allowed to call the API from a browser page elsewhere (API_CORS_ORIGINS): exact
   * origins, or `['*']` for any. Empty: CORS off, no CORS headers at all.
   */
  corsOrigins: readonly string[];
  mapTileUrl?: string;
  mapTileAttribution?: string;
  trips: { minDistanceM: number; minStopDurationS: number; movingMinSpeedKmh: number };
  /** Where CLI query commands find the API (API_URL, API_KEY). */
  client: { url: string; apiKey?: string };
}

/**
 * HOST, PORT, API_*, the map and the trip summary. Auth defaults to `required`, or `off` in
 * development; keys may be empty here (commands that serve no HTTP need none): the API refuses to
 * start with auth required and no keys (see requireApiKeys).
 */
export function apiFrom(v: ConfigValues, devMode: boolean): ApiConfig {
  return {
    host: v.HOST,
    port: v.PORT,
    gatewayPort: v.GATEWAY_PORT,
    apiKeys: v.API_KEYS,
    authRequired: (v.API_AUTH ?? (devMode ? 'off' : 'required')) === 'required',
    maxSseClients: v.MAX_SSE_CLIENTS,
    streamTokenTtlMs: v.STREAM_TOKEN_TTL_MS,
    staleAfterMs: v.STALE_AFTER_MS,
    ...(v.API_STATE_REPLICA_MAX_VEHICLES !== undefined
      ? { stateReplicaMaxVehicles: v.API_STATE_REPLICA_MAX_VEHICLES }
      : {}),
    corsOrigins: v.API_CORS_ORIGINS,
    ...(v.MAP_TILE_URL ? { mapTileUrl: v.MAP_TILE_URL } : {}),
    ...(v.MAP_TILE_ATTRIBUTION ? { mapTileAttribution: v.MAP_TILE_ATTRIBUTION } : {}),
    trips: {
      minDistanceM: v.TRIP_MIN_DISTANCE_M,
      minStopDurationS: v.STOP_MIN_DURATION_S,
      movingMinSpeedKmh: v.MOVING_MIN_SPEED_KMH,
    },
    client: {
      url: v.API_URL,
      ...(v.API_KEY ? { apiKey: v.API_KEY } : {}),
    },
  };
}
