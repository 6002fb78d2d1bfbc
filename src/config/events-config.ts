import { ConfigError } from '../errors.js';
import type { ConfigValues } from './values.js';

/** The thresholds of every detector (from config: OVERSPEED_LIMIT_KMH, OFFLINE_AFTER, ...). */
export interface EventRules {
  /** Positions may arrive this late (event time) and still give the same events. @default 5000 */
  graceMs: number;
  /** Metres a position must be inside (enter) or outside (exit) a boundary. @default 20 */
  geofenceHysteresisM: number;
  /** Global speed limit (km/h); a geofence's speedLimitKmh overrides it inside. @default 120 */
  overspeedLimitKmh: number;
  /** Overspeed is reported once it lasted this long (ms). @default 10000 */
  overspeedMinDurationMs: number;
  /** At or above this speed (km/h) a vehicle is moving. @default 3 */
  movingMinSpeedKmh: number;
  /** A trip ends after this long without moving (ms): the session window's gap. @default 300000 */
  tripEndAfterMs: number;
  /** No report for this long (event time and wall clock) makes a vehicle offline. @default 600000 */
  offlineAfterMs: number;
  /** battery_low below this percentage; once, until it is back at this + 5. @default 20 */
  batteryLowPct: number;
}

/** Settings of the events processor (EVENTS_*, GEOFENCE_*, OVERSPEED_*, TRIP_END_AFTER_MS, OFFLINE_AFTER, BATTERY_LOW_PCT). */
export interface EventsConfig {
  topic: string;
  geofencesTopic: string;
  /** Consumer group = application id (changelog topic and transactional id prefix). */
  applicationId: string;
  rules: EventRules;
  /** Webhook delivery of every event (EVENT_WEBHOOK_*); absent: no webhook. */
  webhook?: EventWebhookConfig;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `600000`, `90s`, `10m`, `1h` → ms (the schema already checked the form). */
export function durationMs(text: string): number {
  const m = /^(\d+)(ms|s|m|h)?$/.exec(text)!;
  return Number(m[1]) * UNIT_MS[m[2] ?? 'ms']!;
}

export interface EventWebhookConfig {
  url: string;
  secret: string;
  /** Consumer group of the delivery (committed after delivery or give-up): `<EVENTS_GROUP>-webhooks`. */
  groupId: string;
  retries: number;
  queueSize: number;
  timeoutMs: number;
}

function webhookFrom(v: ConfigValues): EventWebhookConfig | undefined {
  if (v.EVENT_WEBHOOK_URL === undefined) return undefined;
  if (v.EVENT_WEBHOOK_SECRET === undefined)
    throw new ConfigError(
      'EVENT_WEBHOOK_SECRET',
      'is required with EVENT_WEBHOOK_URL (receivers verify the signature)',
    );
  return {
    url: v.EVENT_WEBHOOK_URL,
    secret: v.EVENT_WEBHOOK_SECRET,
    groupId: `${v.EVENTS_GROUP}-webhooks`,
    retries: v.EVENT_WEBHOOK_RETRIES,
    queueSize: v.EVENT_WEBHOOK_QUEUE,
    timeoutMs: v.EVENT_WEBHOOK_TIMEOUT_MS,
  };
}

export function eventsFrom(v: ConfigValues): EventsConfig {
  const webhook = webhookFrom(v);
  return {
    ...(webhook ? { webhook } : {}),
    topic: v.EVENTS_TOPIC,
    geofencesTopic: v.GEOFENCES_TOPIC,
    applicationId: v.EVENTS_GROUP,
    rules: {
      graceMs: v.EVENTS_GRACE_MS,
      geofenceHysteresisM: v.GEOFENCE_HYSTERESIS_M,
      overspeedLimitKmh: v.OVERSPEED_LIMIT_KMH,
      overspeedMinDurationMs: v.OVERSPEED_MIN_DURATION_MS,
      movingMinSpeedKmh: v.MOVING_MIN_SPEED_KMH,
      tripEndAfterMs: v.TRIP_END_AFTER_MS,
      offlineAfterMs: durationMs(v.OFFLINE_AFTER),
      batteryLowPct: v.BATTERY_LOW_PCT,
    },
  };
}
