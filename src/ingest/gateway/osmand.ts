import {
  EventTimeError,
  parsePosition,
  type AttributeValue,
  type Position,
  type TimeBounds,
} from '../../domain/position.js';
import { ValidationError, type ValidationIssue } from '../../errors.js';

/**
 * The OsmAnd protocol as Traccar Client (and many HTTP trackers) speak it, decoded the way
 * Traccar's OsmAndProtocolDecoder does: query (or form) parameters, or the newer JSON body.
 * Units are converted to ours: knots and m/s to km/h, battery 0..1 to percent.
 */

export type QueryParams = Record<string, string | readonly string[] | undefined>;

const KNOTS_TO_KMH = 1.852;
const MPS_TO_KMH = 3.6;

/** Parameters with a field of their own; every other parameter becomes an attribute. */
const FIELD_PARAMS: Record<string, keyof Position> = {
  id: 'vehicleId',
  deviceid: 'vehicleId',
  timestamp: 'ts',
  lat: 'lat',
  lon: 'lon',
  speed: 'speed',
  bearing: 'heading',
  heading: 'heading',
  altitude: 'altitude',
  accuracy: 'accuracy',
  batt: 'battery',
};

const last = (value: string | readonly string[] | undefined): string | undefined =>
  typeof value === 'string' ? value : value?.at(-1);

/**
 * Device time as OsmAnd sends it: unix seconds (or milliseconds when the number is too big for
 * seconds, as Traccar decides), ISO 8601, or `yyyy-MM-dd HH:mm:ss` (read as UTC).
 */
export function parseDeviceTime(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^-?\d+(\.\d+)?$/.test(trimmed)) {
    const n = Number(trimmed);
    return Math.round(n < 2_147_483_647 ? n * 1000 : n);
  }
  const iso = trimmed.includes('T')
    ? trimmed
    : /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/.test(trimmed)
      ? `${trimmed.replace(' ', 'T')}Z`
      : '';
  const ms = iso ? Date.parse(iso) : NaN;
  return Number.isNaN(ms) ? undefined : ms;
}

function attributeValue(text: string): AttributeValue {
  if (text === 'true') return true;
  if (text === 'false') return false;
  const n = Number(text);
  return text.trim() !== '' && Number.isFinite(n) ? n : text;
}

/** Re-labels schema issues with the names the client used (`heading` -> `bearing`). */
function renamed(err: unknown, names: Record<string, string>, prefix = '', attributePrefix = ''): never {
  if (!(err instanceof ValidationError)) throw err;
  if (err instanceof EventTimeError) {
    throw new EventTimeError(
      err.reason,
      err.issues[0]?.message ?? 'out of range',
      prefix + (names.ts ?? 'ts'),
    );
  }
  throw new ValidationError(
    err.issues.map((i) => {
      const [head, ...rest] = i.path.split('.');
      const name =
        head === 'attributes' && rest.length > 0
          ? attributePrefix + rest.join('.')
          : (names[head ?? ''] ?? i.path);
      return { path: prefix + name, message: i.message };
    }),
  );
}

/** Decodes one OsmAnd query/form request; throws ValidationError naming the parameter. */
export function parseOsmAndQuery(params: QueryParams, bounds: TimeBounds = {}): Position {
  const issues: ValidationIssue[] = [];
  const out: Record<string, unknown> = {};
  const attributes: Record<string, AttributeValue> = {};
  const names: Record<string, string> = {};
  const number = (param: string, text: string): number | undefined => {
    const n = Number(text);
    if (text.trim() === '' || !Number.isFinite(n)) {
      issues.push({ path: param, message: `must be a number (got '${text.slice(0, 40)}')` });
      return undefined;
    }
    return n;
  };
  for (const [param, raw] of Object.entries(params)) {
    const text = last(raw);
    if (text === undefined) continue;
    const field = FIELD_PARAMS[param];
    if (field) names[field] = param;
    if (field === 'vehicleId') out.vehicleId = text;
    else if (field === 'ts') {
      const ts = parseDeviceTime(text);
      if (ts === undefined) issues.push({ path: param, message: `'${text.slice(0, 40)}' is not a time` });
      out.ts = ts;
    } else if (field === 'speed') {
      const knots = number(param, text);
      if (knots !== undefined) out.speed = knots * KNOTS_TO_KMH;
    } else if (field) out[field] = number(param, text);
    else if (param === 'location') {
      const [lat, lon] = text.split(',');
      out.lat = number(param, lat ?? '');
      out.lon = number(param, lon ?? '');
      names.lat = names.lon = param;
    } else attributes[param] = attributeValue(text);
  }
  if (out.vehicleId === undefined)
    issues.push({ path: 'id', message: 'is required (the device identifier)' });
  if (!('lat' in out)) issues.push({ path: 'lat', message: 'is required' });
  if (!('lon' in out)) issues.push({ path: 'lon', message: 'is required' });
  if (issues.length > 0) throw new ValidationError(issues);
  out.ts ??= bounds.now ?? Date.now();
  if (Object.keys(attributes).length > 0) out.attributes = attributes;
  try {
    return parsePosition(out, bounds);
  } catch (err) {
    renamed(err, names);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Where each field came from, relative to the location object. */
const JSON_NAMES: Record<string, string> = {
  ts: 'timestamp',
  lat: 'coords.latitude',
  lon: 'coords.longitude',
  speed: 'coords.speed',
  heading: 'coords.heading',
  altitude: 'coords.altitude',
  accuracy: 'coords.accuracy',
  battery: 'battery.level',
};

/** One `location` object of the JSON form. */
function fromLocation(deviceId: unknown, location: unknown, bounds: TimeBounds, at: string): Position {
  if (!isObject(location)) throw new ValidationError([{ path: at, message: 'must be an object' }]);
  const coords = location.coords;
  if (!isObject(coords)) throw new ValidationError([{ path: `${at}.coords`, message: 'is required' }]);
  const num = (v: unknown) => (typeof v === 'number' ? v : undefined);
  const ts =
    typeof location.timestamp === 'string' ? Date.parse(location.timestamp) : num(location.timestamp);
  if (ts === undefined || Number.isNaN(ts)) {
    throw new ValidationError([{ path: `${at}.timestamp`, message: 'must be an ISO 8601 time' }]);
  }
  const out: Record<string, unknown> = {
    vehicleId: typeof deviceId === 'number' ? String(deviceId) : deviceId,
    ts,
    lat: coords.latitude,
    lon: coords.longitude,
  };
  // Negative speed, heading, accuracy or battery level mean "unknown" on the device.
  const speed = num(coords.speed);
  if (speed !== undefined && speed >= 0) out.speed = speed * MPS_TO_KMH;
  const heading = num(coords.heading);
  if (heading !== undefined && heading >= 0) out.heading = heading;
  const accuracy = num(coords.accuracy);
  if (accuracy !== undefined && accuracy >= 0) out.accuracy = accuracy;
  if (coords.altitude !== undefined && coords.altitude !== null) out.altitude = coords.altitude;
  const attributes: Record<string, unknown> = {};
  const battery = location.battery;
  if (isObject(battery)) {
    const level = num(battery.level);
    if (level !== undefined && level >= 0) out.battery = Math.round(level * 1000) / 10;
    if (battery.is_charging === true) attributes.charge = true;
  }
  if (typeof location.is_moving === 'boolean') attributes.motion = location.is_moving;
  if (location.odometer !== undefined) attributes.odometer = location.odometer;
  if (location.event !== undefined) attributes.event = location.event;
  if (location.mock !== undefined) attributes.mock = location.mock;
  if (isObject(location.activity) && location.activity.type !== undefined)
    attributes.activity = location.activity.type;
  const extras = isObject(location.extras) ? location.extras : {};
  const alarm = location.alarm ?? extras.alarm;
  if (alarm !== undefined) attributes.alarm = alarm;
  if (Object.keys(attributes).length > 0) out.attributes = attributes;
  try {
    return parsePosition(out, bounds);
  } catch (err) {
    const names = Object.fromEntries(Object.entries(JSON_NAMES).map(([k, v]) => [k, `${at}.${v}`]));
    renamed(err, { ...names, vehicleId: 'device_id' }, '', `${at}.attributes.`);
  }
}

/**
 * Decodes the JSON form Traccar Client sends:
 * `{"device_id": "...", "location": {"timestamp", "coords": {...}, "battery": {...}, ...}}`.
 * `location` may also be an array (a client's offline buffer). All or nothing: one bad location
 * rejects the request, so the device retries it whole after the fix.
 */
export function parseTraccarJson(body: unknown, bounds: TimeBounds = {}): Position[] {
  if (!isObject(body)) throw new ValidationError([{ path: '', message: 'body must be a JSON object' }]);
  const deviceId = body.device_id;
  if (deviceId === undefined || deviceId === null || deviceId === '') {
    throw new ValidationError([{ path: 'device_id', message: 'is required' }]);
  }
  const locations = Array.isArray(body.location) ? body.location : [body.location];
  if (locations.length === 0) throw new ValidationError([{ path: 'location', message: 'is empty' }]);
  return locations.map((location, i) =>
    fromLocation(deviceId, location, bounds, Array.isArray(body.location) ? `location[${i}]` : 'location'),
  );
}
