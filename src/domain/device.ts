import { createHash, timingSafeEqual } from 'node:crypto';
import { ValidationError } from '../errors.js';
import { VehicleIdSchema } from './position.js';

/** A registered device: its id is the `vehicleId` (OsmAnd `id`) it reports under. */
export interface Device {
  id: string;
  /** Free label. */
  name?: string;
  /** sha256 (hex) of the device's token; absent: the device needs no token. */
  tokenSha256?: string;
  /** When it was registered, ISO 8601. */
  createdAt: string;
}

/** The device registry (port): where devices are stored. */
export interface DeviceStore {
  get(id: string): Promise<Device | undefined>;
  list(): Promise<Device[]>;
  put(device: Device): Promise<void>;
  /** Whether it existed. */
  remove(id: string): Promise<boolean>;
}

/** Shortest accepted device token. */
export const MIN_DEVICE_TOKEN_LENGTH = 16;

export const hashDeviceToken = (token: string): string =>
  createHash('sha256').update(token, 'utf8').digest('hex');

/** Whether `token` is the one whose hash is stored (constant-time compare of the hashes). */
export function deviceTokenMatches(device: Device, token: string | undefined): boolean {
  if (device.tokenSha256 === undefined) return true;
  if (token === undefined) return false;
  const given = Buffer.from(hashDeviceToken(token), 'hex');
  const stored = Buffer.from(device.tokenSha256, 'hex');
  return given.length === stored.length && timingSafeEqual(given, stored);
}

/** A new registry entry from user input; throws {@link ValidationError} naming the field. */
export function newDevice(id: string, input: { name?: unknown; token?: unknown }, now = new Date()): Device {
  const parsedId = VehicleIdSchema.safeParse(id);
  if (!parsedId.success) {
    throw new ValidationError([{ path: 'id', message: parsedId.error.issues[0]?.message ?? 'invalid' }]);
  }
  const { name, token } = input;
  if (name !== undefined && (typeof name !== 'string' || name.length > 256)) {
    throw new ValidationError([{ path: 'name', message: 'must be a string of at most 256 characters' }]);
  }
  if (
    token !== undefined &&
    (typeof token !== 'string' || token.length < MIN_DEVICE_TOKEN_LENGTH || token.length > 512)
  ) {
    throw new ValidationError([
      { path: 'token', message: `must be a string of ${MIN_DEVICE_TOKEN_LENGTH} to 512 characters` },
    ]);
  }
  return {
    id,
    ...(name !== undefined ? { name } : {}),
    ...(token !== undefined ? { tokenSha256: hashDeviceToken(token) } : {}),
    createdAt: now.toISOString(),
  };
}

/** What the API and the CLI show of a device: never the hash. */
export function publicDevice(device: Device): {
  id: string;
  name?: string;
  hasToken: boolean;
  createdAt: string;
} {
  return {
    id: device.id,
    ...(device.name !== undefined ? { name: device.name } : {}),
    hasToken: device.tokenSha256 !== undefined,
    createdAt: device.createdAt,
  };
}
