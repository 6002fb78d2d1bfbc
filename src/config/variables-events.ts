import { z } from 'zod';
import { int, topicName } from './variable-schemas.js';
import type { VariableSpec } from './variable-spec.js';

/** The events processor (`fleet events-process`). */
export const eventsVariables = [
  // Events (fleet events-process)
  {
    name: 'EVENTS_TOPIC',
    schema: topicName,
    default: 'vehicle_events',
    doc: 'Topic of vehicle events (key = vehicle id), written exactly once by `fleet events-process`.',
  },
  {
    name: 'GEOFENCES_TOPIC',
    schema: topicName,
    default: 'geofences',
    doc: 'Compacted topic of geofences (key = geofence id, GeoJSON Feature; tombstone = deleted).',
  },
  {
    name: 'EVENTS_GROUP',
    schema: z.string().regex(/^[A-Za-z0-9._-]+$/),
    default: 'fleet-events',
    doc: 'Consumer group and application id of `fleet events-process` (prefix of its changelog topic and transactional ids).',
  },
  {
    name: 'EVENTS_GRACE_MS',
    schema: int(0, 600_000),
    default: '5000',
    doc: 'Positions of a vehicle may arrive this late (event time) and still give the same events; events wait this long.',
  },
  {
    name: 'GEOFENCE_HYSTERESIS_M',
    schema: z.coerce.number().min(0).max(10_000),
    default: '20',
    doc: 'A vehicle enters a geofence this far inside its boundary and leaves this far outside (GPS noise).',
  },
  {
    name: 'OVERSPEED_LIMIT_KMH',
    schema: z.coerce.number().positive(),
    default: '120',
    doc: "Speed limit where no geofence's speedLimitKmh applies.",
  },
  {
    name: 'OVERSPEED_MIN_DURATION_MS',
    schema: int(0),
    default: '10000',
    doc: 'Overspeed is reported once it lasted this long.',
  },
  {
    name: 'TRIP_END_AFTER_MS',
    schema: int(1000),
    default: '300000',
    doc: 'A trip ends after the vehicle has not moved for this long (the session gap, 5 min).',
  },
  {
    name: 'OFFLINE_AFTER',
    schema: z.string().regex(/^\d+(ms|s|m|h)?$/, 'a duration such as 600000, 90s, 10m or 1h'),
    default: '10m',
    doc: 'No report for this long (event time and wall clock) makes a vehicle offline.',
  },
  {
    name: 'BATTERY_LOW_PCT',
    schema: z.coerce.number().min(0).max(100),
    default: '20',
    doc: 'battery_low below this percentage, once until it is back at this + 5.',
  },
  {
    name: 'EVENT_WEBHOOK_URL',
    schema: z.string().url().optional(),
    doc: 'When set, `fleet events-process` POSTs every event (JSON) here, HMAC-signed, at least once, retried with backoff (docs/events.md#webhooks).',
  },
  {
    name: 'EVENT_WEBHOOK_SECRET',
    schema: z.string().min(16, 'at least 16 characters').optional(),
    doc: 'HMAC-SHA256 key of the webhook signature (`X-Fleet-Signature: sha256=<hex>` over `<X-Fleet-Timestamp>.<body>`); required with EVENT_WEBHOOK_URL.',
    secret: true,
  },
  {
    name: 'EVENT_WEBHOOK_RETRIES',
    schema: int(0, 100),
    default: '8',
    doc: 'Retries of one webhook delivery (exponential backoff, 0.5 s doubling up to 30 s) before it is given up (counted and logged).',
  },
  {
    name: 'EVENT_WEBHOOK_QUEUE',
    schema: int(1, 1_000_000),
    default: '1000',
    doc: 'Events waiting for webhook delivery at most; when full the webhook consumer stops reading until there is room (counted and logged).',
  },
  {
    name: 'EVENT_WEBHOOK_TIMEOUT_MS',
    schema: int(100, 300_000),
    default: '5000',
    doc: 'Timeout of one webhook request.',
  },
] as const satisfies readonly VariableSpec[];
