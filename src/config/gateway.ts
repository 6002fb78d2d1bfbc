import type { ConfigValues } from './values.js';

/** A token bucket's settings: `ratePerS` tokens per second (0 = no limit), at most `burst` saved. */
export interface RateLimit {
  ratePerS: number;
  burst: number;
}

/** The ingest gateway's defences (device registry, rate limits). */
export interface GatewayConfig {
  /** Devices missing from the registry: `reject` answers 403 (GATEWAY_UNKNOWN_DEVICES). */
  unknownDevices: 'accept' | 'reject';
  /** How long the in-memory registry copy is trusted (GATEWAY_DEVICE_CACHE_MS). */
  deviceCacheMs: number;
  /** Per device id (GATEWAY_DEVICE_RATE / _BURST). */
  perDevice: RateLimit;
  /** Per source address (GATEWAY_ADDRESS_RATE / _BURST). */
  perAddress: RateLimit;
}

/** GATEWAY_*: unknown devices default to `accept` only in development (`fleet dev`). */
export function gatewayFrom(v: ConfigValues, devMode: boolean): GatewayConfig {
  const unknown = v.GATEWAY_UNKNOWN_DEVICES;
  return {
    unknownDevices: unknown ?? (devMode ? 'accept' : 'reject'),
    deviceCacheMs: v.GATEWAY_DEVICE_CACHE_MS,
    perDevice: { ratePerS: v.GATEWAY_DEVICE_RATE, burst: v.GATEWAY_DEVICE_BURST },
    perAddress: { ratePerS: v.GATEWAY_ADDRESS_RATE, burst: v.GATEWAY_ADDRESS_BURST },
  };
}
