import { z } from 'zod';
import { ValidationError, type ValidationIssue } from '../errors.js';

/** Longest vehicle id; ids are Kafka keys and Redis key suffixes. */
export const MAX_VEHICLE_ID_LENGTH = 128;
/** Most free attributes one position may carry, and their largest encoded size. */
export const MAX_ATTRIBUTES = 32;
export const MAX_ATTRIBUTES_BYTES = 4096;

export const VEHICLE_ID_PATTERN = /^[A-Za-z0-9._:@-]+$/;
/**
 * Ids that name API routes under `/v1/vehicles/` and so could never be read back by id: refused at
 * ingest (gateway, publisher, processor) with a reason instead.
 */
export const RESERVED_VEHICLE_IDS: ReadonlySet<string> = new Set(['nearby']);

const finite = z.number().refine(Number.isFinite, 'must be a finite number');

export const VehicleIdSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(MAX_VEHICLE_ID_LENGTH, `must be at most ${MAX_VEHICLE_ID_LENGTH} characters`)
  .regex(VEHICLE_ID_PATTERN, 'may contain only letters, digits and . _ : @ -')
  .refine((id) => !RESERVED_VEHICLE_IDS.has(id), {
    message: `is reserved: ${[...RESERVED_VEHICLE_IDS].map((id) => `'${id}' names the /v1/vehicles/${id} route`).join(', ')}; use another id`,
  });

const attributeValue = z.union([z.string().max(1024), finite, z.boolean(), z.null()]);

/**
 * A vehicle position: the one record type of `vehicle_positions`. Units: `ts` epoch milliseconds
 * (event time, set by the device), `speed` km/h, `heading` degrees clockwise from north, `altitude`
 * and `accuracy` metres, `battery` percent.
 */
export const PositionSchema = z
  .object({
    vehicleId: VehicleIdSchema,
    ts: z.number().int('must be an integer (epoch milliseconds)').min(0).max(8.64e15),
    lat: finite.min(-90, 'must be >= -90').max(90, 'must be <= 90'),
    lon: finite.min(-180, 'must be >= -180').max(180, 'must be <= 180'),
    speed: finite.min(0).max(1500, 'must be <= 1500 km/h').optional(),
    heading: finite.min(0).max(360).optional(),
    altitude: finite.min(-1000).max(50_000).optional(),
    accuracy: finite.min(0).max(1_000_000).optional(),
    battery: finite.min(0).max(100).optional(),
    attributes: z
      .record(z.string().min(1).max(64), attributeValue)
      .refine((a) => Object.keys(a).length <= MAX_ATTRIBUTES, `at most ${MAX_ATTRIBUTES} attributes`)
      .refine(
        (a) => JSON.stringify(a).length <= MAX_ATTRIBUTES_BYTES,
        `at most ${MAX_ATTRIBUTES_BYTES} bytes of attributes`,
      )
      .optional(),
  })
  .strict();

export type Position = z.infer<typeof PositionSchema>;
export type AttributeValue = z.infer<typeof attributeValue>;

export interface TimeBounds {
  /** Reference "now" in epoch ms. @default Date.now() */
  now?: number;
  /** Oldest accepted event time relative to now. @default 7 days */
  maxAgeMs?: number;
  /**
   * Furthest accepted event time into the future (device clock skew; MAX_FUTURE_SKEW_MS). The table
   * only moves forward in event time, so a report dated further ahead would freeze the vehicle
   * until then. @default 30 seconds
   */
  maxFutureMs?: number;
}

export const DEFAULT_MAX_AGE_MS = 7 * 24 * 3600_000;
export const DEFAULT_MAX_FUTURE_MS = 30_000;

/** Why an event time was refused: the one rule shared by the gateway and the processor. */
export type EventTimeReason = 'future_timestamp' | 'stale_timestamp';

/** A position whose event time is outside the accepted window (a {@link ValidationError} on `ts`). */
export class EventTimeError extends ValidationError {
  constructor(
    readonly reason: EventTimeReason,
    message: string,
    path = 'ts',
  ) {
    super([{ path, message }]);
  }
}

function toIssues(error: z.ZodError): ValidationIssue[] {
  return error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
}

/** Inclusive ranges of the numeric fields, exactly as in {@link PositionSchema} (a test keeps them equal). */
const NUMBER_RANGES = new Map<string, readonly [number, number]>([
  ['lat', [-90, 90]],
  ['lon', [-180, 180]],
  ['speed', [0, 1500]],
  ['heading', [0, 360]],
  ['altitude', [-1000, 50_000]],
  ['accuracy', [0, 1_000_000]],
  ['battery', [0, 100]],
]);

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;

function validAttributes(a: unknown): boolean {
  if (!isPlainObject(a)) return false;
  let count = 0;
  // Upper bound of the JSON length (a char escapes to at most 6, a number prints in at most 25):
  // only attributes that might be too big pay for JSON.stringify.
  let bound = 2;
  for (const key in a) {
    if (++count > MAX_ATTRIBUTES || key.length === 0 || key.length > 64 || key === '__proto__') return false;
    const v = a[key];
    bound += key.length * 6 + 4;
    if (v === null || typeof v === 'boolean') bound += 5;
    else if (typeof v === 'string' && v.length <= 1024) bound += v.length * 6 + 2;
    else if (typeof v === 'number' && Number.isFinite(v)) bound += 25;
    else return false;
  }
  return bound <= MAX_ATTRIBUTES_BYTES || JSON.stringify(a).length <= MAX_ATTRIBUTES_BYTES;
}

/**
 * The hot path of validation: true when `input` is a plain object that {@link PositionSchema}
 * accepts unchanged (every record of a healthy stream). About 20× cheaper than the schema; anything
 * it does not vouch for (including odd-but-valid inputs like `speed: undefined`) goes through the
 * schema, which alone produces error messages.
 */
function isPlainValidPosition(input: unknown): input is Position {
  if (!isPlainObject(input)) return false;
  for (const key in input) {
    const v = input[key];
    if (key === 'vehicleId') {
      if (
        typeof v !== 'string' ||
        v.length === 0 ||
        v.length > MAX_VEHICLE_ID_LENGTH ||
        !VEHICLE_ID_PATTERN.test(v) ||
        RESERVED_VEHICLE_IDS.has(v)
      )
        return false;
    } else if (key === 'ts') {
      if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > 8.64e15) return false;
    } else if (key === 'attributes') {
      if (!validAttributes(v)) return false;
    } else {
      const range = NUMBER_RANGES.get(key);
      if (range === undefined || typeof v !== 'number' || !(v >= range[0] && v <= range[1])) return false;
    }
  }
  return 'vehicleId' in input && 'ts' in input && 'lat' in input && 'lon' in input;
}

/**
 * JSON.parse makes `__proto__` an own key, but the schema's record skips it: such an attribute
 * would vanish silently. It is refused with a reason instead (found by the property-based fuzz).
 */
function hasProtoAttribute(input: unknown): boolean {
  const attributes = isObject(input) ? input.attributes : undefined;
  return isObject(attributes) && Object.prototype.hasOwnProperty.call(attributes, '__proto__');
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** Validates an already-decoded object; throws {@link ValidationError} listing every problem. */
export function parsePosition(input: unknown, bounds: TimeBounds = {}): Position {
  let position: Position;
  if (isPlainValidPosition(input)) {
    position = input;
  } else {
    if (hasProtoAttribute(input)) {
      throw new ValidationError([
        { path: 'attributes.__proto__', message: 'the attribute name __proto__ is reserved' },
      ]);
    }
    const result = PositionSchema.safeParse(input);
    if (!result.success) throw new ValidationError(toIssues(result.error));
    position = result.data;
  }
  const now = bounds.now ?? Date.now();
  const maxAge = bounds.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
  const maxFuture = bounds.maxFutureMs ?? DEFAULT_MAX_FUTURE_MS;
  if (position.ts < now - maxAge) {
    throw new EventTimeError(
      'stale_timestamp',
      `event time ${new Date(position.ts).toISOString()} is more than ${maxAge} ms in the past`,
    );
  }
  if (position.ts > now + maxFuture) {
    throw new EventTimeError(
      'future_timestamp',
      `event time ${new Date(position.ts).toISOString()} is more than ${maxFuture} ms in the future (MAX_FUTURE_SKEW_MS)`,
    );
  }
  return position;
}
