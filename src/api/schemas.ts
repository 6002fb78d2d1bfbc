import { z } from 'zod';
import { VehicleIdSchema } from '../domain/position.js';
import { EVENT_TYPES, isEventType, type EventType } from '../domain/vehicle-event.js';
import { ValidationError } from '../errors.js';
import type { BoundingBox } from '../domain/geo.js';

/**
 * Route schemas, written once in zod: fastify validates requests with them (see `validation.ts`)
 * and @fastify/swagger turns them into the OpenAPI document served at /docs. Query strings are
 * strict, so a misspelt parameter (`radius=` for `radius_m=`) is a 400 that names it.
 */

/** Largest page of `GET /v1/vehicles`. */
export const MAX_PAGE_SIZE = 1000;
export const DEFAULT_PAGE_SIZE = 100;
/** Largest `limit` of `GET /v1/vehicles/nearby`. */
export const MAX_NEARBY_LIMIT = 1000;
export const DEFAULT_NEARBY_LIMIT = 50;
/** Largest `radius_m` of `GET /v1/vehicles/nearby` (500 km). */
export const MAX_RADIUS_M = 500_000;
/** Longest window of history and summary queries (24 h). */
export const MAX_WINDOW_MS = 24 * 3600_000;
/** Most rows one history answer holds. */
export const MAX_HISTORY_ROWS = 50_000;

const number = (what = 'a number') => z.coerce.number({ error: `must be ${what}` });
const integer = (min: number, max: number) =>
  number('an integer').int('must be an integer').min(min, `must be >= ${min}`).max(max, `must be <= ${max}`);
const latitude = number().min(-90, 'must be >= -90').max(90, 'must be <= 90');
const longitude = number().min(-180, 'must be >= -180').max(180, 'must be <= 180');

/** `minLon,minLat,maxLon,maxLat` (the GeoJSON bbox order), as in `?bbox=2.2,48.8,2.5,48.9`. */
export const BBoxParam = z
  .string()
  .describe('west,south,east,north in degrees (GeoJSON bbox order), e.g. 2.25,48.81,2.42,48.90')
  .transform((text, ctx): BoundingBox => {
    const parts = text.split(',').map((p) => (p.trim() === '' ? NaN : Number(p)));
    const [minLon, minLat, maxLon, maxLat] = parts as [number, number, number, number];
    const why =
      parts.length !== 4 || parts.some((p) => !Number.isFinite(p))
        ? 'expected four numbers: minLon,minLat,maxLon,maxLat'
        : minLat < -90 || maxLat > 90 || minLon < -180 || maxLon > 180
          ? 'latitudes must be within [-90, 90] and longitudes within [-180, 180]'
          : minLat > maxLat || minLon > maxLon
            ? 'min must not exceed max (minLon,minLat,maxLon,maxLat)'
            : null;
    if (why) {
      ctx.addIssue({ code: 'custom', message: why });
      return z.NEVER;
    }
    return { minLat, minLon, maxLat, maxLon };
  });

/** Epoch milliseconds or an ISO-8601 time. */
export const TimeParam = z
  .string()
  .describe('epoch milliseconds or ISO-8601 time (2024-05-01T12:00:00Z)')
  .transform((text, ctx) => {
    const ms = /^\d{1,16}$/.test(text)
      ? Number(text)
      : /^\d{4}-\d\d-\d\dT/.test(text)
        ? Date.parse(text)
        : NaN;
    if (!Number.isFinite(ms)) {
      ctx.addIssue({ code: 'custom', message: 'must be epoch milliseconds or an ISO-8601 time' });
      return z.NEVER;
    }
    return ms;
  });

export const VehicleParams = z.object({ id: VehicleIdSchema.describe('Vehicle id (the Kafka key)') });

export const ListQuery = z
  .object({
    limit: integer(1, MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE).describe(`Page size (max ${MAX_PAGE_SIZE})`),
    cursor: z.string().max(512).optional().describe('`nextCursor` of the previous page'),
    bbox: BBoxParam.optional(),
    max_age_s: integer(1, 30 * 86_400)
      .optional()
      .describe('Only vehicles whose last position is at most this many seconds old'),
  })
  .strict();

export const NearbyQuery = z
  .object({
    lat: latitude.describe('Centre latitude, degrees'),
    lon: longitude.describe('Centre longitude, degrees'),
    radius_m: number()
      .positive('must be > 0')
      .max(MAX_RADIUS_M, `must be <= ${MAX_RADIUS_M}`)
      .describe(`Search radius in metres (max ${MAX_RADIUS_M})`),
    limit: integer(1, MAX_NEARBY_LIMIT)
      .default(DEFAULT_NEARBY_LIMIT)
      .describe(`Most vehicles returned (max ${MAX_NEARBY_LIMIT})`),
  })
  .strict();

function windowQuery<T extends z.ZodRawShape>(extra: T) {
  return z
    .object({
      from: TimeParam.optional().describe('Start (inclusive); default `to` - 24 h'),
      to: TimeParam.optional().describe('End (exclusive); default now'),
      ...extra,
    })
    .strict()
    .superRefine((value, ctx) => {
      const q = value as { from?: number; to?: number };
      if (q.from !== undefined && q.to !== undefined) {
        if (q.from >= q.to) ctx.addIssue({ code: 'custom', path: ['from'], message: 'must be before `to`' });
        else if (q.to - q.from > MAX_WINDOW_MS)
          ctx.addIssue({
            code: 'custom',
            path: ['from'],
            message: `window from..to must be at most ${MAX_WINDOW_MS / 3600_000} h`,
          });
      }
    });
}

export const HistoryQuery = windowQuery({
  limit: integer(1, MAX_HISTORY_ROWS)
    .default(MAX_HISTORY_ROWS)
    .describe(`Most positions returned, oldest first (max ${MAX_HISTORY_ROWS})`),
});

export const SummaryQuery = windowQuery({
  min_trip_m: number()
    .min(0, 'must be >= 0')
    .max(1_000_000)
    .optional()
    .describe('Trip rule override: a trip covers at least this many metres'),
  min_stop_s: number()
    .min(0, 'must be >= 0')
    .max(86_400)
    .optional()
    .describe('Trip rule override: a stop lasts at least this many seconds'),
  moving_kmh: number()
    .min(0, 'must be >= 0')
    .max(300)
    .optional()
    .describe('Trip rule override: below this speed the vehicle counts as stopped'),
});

/** The `token` of the SSE streams: what a browser's EventSource passes instead of the key header. */
export const StreamTokenParam = z
  .string()
  .max(256)
  .optional()
  .describe('Stream token from POST /v1/stream-tokens, for EventSource (which cannot send the key header)');

export const StreamQuery = z
  .object({
    vehicle: VehicleIdSchema.optional().describe('Only this vehicle'),
    bbox: BBoxParam.optional().describe('Only positions inside west,south,east,north'),
    token: StreamTokenParam,
  })
  .strict();

/** Largest `limit` of the events queries. */
export const MAX_EVENTS = 1000;
export const DEFAULT_EVENTS = 100;

const EventTypesParam = z
  .string()
  .describe(`One type or a comma-separated list: ${EVENT_TYPES.join(', ')}`)
  .transform((text, ctx): EventType[] => {
    const types = text.split(',').map((t) => t.trim());
    const unknown = types.filter((t) => !isEventType(t));
    if (unknown.length > 0) {
      ctx.addIssue({
        code: 'custom',
        message: `unknown event type ${unknown.join(', ')} (one of ${EVENT_TYPES.join(', ')})`,
      });
      return z.NEVER;
    }
    return types as EventType[];
  });

/** `GET /v1/events` (with `vehicleId`) and `GET /v1/vehicles/:id/events` (without). */
export function eventsQuery<V extends boolean>(withVehicle: V) {
  return z
    .object({
      ...(withVehicle ? { vehicleId: VehicleIdSchema.optional().describe('Only this vehicle') } : {}),
      type: EventTypesParam.optional(),
      from: TimeParam.optional().describe('Event time from (inclusive)'),
      to: TimeParam.optional().describe('Event time to (exclusive)'),
      limit: integer(1, MAX_EVENTS)
        .default(DEFAULT_EVENTS)
        .describe(`Most events returned, newest first (max ${MAX_EVENTS})`),
    })
    .strict()
    .superRefine((q, ctx) => {
      if (q.from !== undefined && q.to !== undefined && q.from >= q.to)
        ctx.addIssue({ code: 'custom', path: ['from'], message: 'must be before `to`' });
    });
}

/**
 * The concrete window of a history/summary query: the last 24 h by default, at most 24 h long.
 * Throws a ValidationError naming `from` when it does not start before its end.
 */
export function queryWindow(q: { from?: number; to?: number }, now: number): { from: number; to: number } {
  const to = q.to ?? (q.from !== undefined ? Math.min(now, q.from + MAX_WINDOW_MS) : now);
  const from = q.from ?? to - MAX_WINDOW_MS;
  if (from >= to)
    throw new ValidationError([{ path: 'from', message: 'must be before `to` (default: now)' }]);
  return { from, to };
}

// Response shapes (documentation only; answers are serialised with JSON.stringify).

export const VehicleView = z.object({
  vehicleId: z.string(),
  ts: z.number().describe('Event time, epoch ms'),
  lat: z.number(),
  lon: z.number(),
  speed: z.number().optional().describe('km/h'),
  heading: z.number().optional().describe('degrees clockwise from north'),
  altitude: z.number().optional().describe('metres'),
  accuracy: z.number().optional().describe('metres'),
  battery: z.number().optional().describe('percent'),
  attributes: z.record(z.string(), z.unknown()).optional(),
  partition: z.number(),
  offset: z.string(),
  updatedAt: z.number().describe('When the table accepted it, epoch ms'),
  ageMs: z.number().describe('now - ts'),
  stale: z.boolean().describe('ageMs > STALE_AFTER_MS'),
});

export const VehiclePage = z.object({
  vehicles: z.array(VehicleView),
  nextCursor: z.string().nullable(),
  total: z.number().describe('Vehicles in the table (before filters)'),
  staleAfterMs: z.number(),
});

export const NearbyAnswer = z.object({
  lat: z.number(),
  lon: z.number(),
  radiusM: z.number(),
  vehicles: z.array(VehicleView.extend({ distanceM: z.number() })),
});

export const HistoryAnswer = z.object({
  vehicleId: z.string(),
  from: z.number(),
  to: z.number(),
  count: z.number(),
  truncated: z.boolean().describe('true when `limit` cut the answer short'),
  positions: z.array(
    z.object({
      ts: z.number(),
      lat: z.number(),
      lon: z.number(),
      speed: z.number().nullable(),
      heading: z.number().nullable(),
      altitude: z.number().nullable(),
      accuracy: z.number().nullable(),
      battery: z.number().nullable(),
      attributes: z.record(z.string(), z.unknown()).nullable(),
    }),
  ),
});

export const SummaryAnswer = z.object({
  vehicleId: z.string(),
  from: z.number(),
  to: z.number(),
  positions: z.number(),
  distanceM: z.number(),
  movingS: z.number(),
  stoppedS: z.number(),
  avgSpeedKmh: z.number().nullable(),
  maxSpeedKmh: z.number().nullable(),
  trips: z.number(),
  stops: z.number(),
  rules: z.object({ minDistanceM: z.number(), minStopDurationS: z.number(), movingMinSpeedKmh: z.number() }),
});

export const ErrorAnswer = z.object({
  statusCode: z.number(),
  error: z.string(),
  code: z.string(),
  message: z.string(),
  parameter: z.string().optional().describe('The offending parameter (400)'),
});
