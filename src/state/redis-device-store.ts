import type { Device, DeviceStore } from '../domain/device.js';
import { FleetError } from '../errors.js';
import type { RedisClient } from './redis-connection.js';

/** The key of the registry hash: field = device id, value = the device as JSON. */
export const devicesKey = (prefix: string): string => `${prefix}devices`;

function parse(id: string, json: string): Device {
  try {
    const value = JSON.parse(json) as Device;
    return { ...value, id };
  } catch (err) {
    throw new FleetError(`device registry: entry '${id}' is not JSON`, { cause: err });
  }
}

/** The device registry in one Redis hash (`<REDIS_PREFIX>devices`). */
export class RedisDeviceStore implements DeviceStore {
  private readonly key: string;

  constructor(
    private readonly redis: RedisClient,
    prefix: string,
  ) {
    this.key = devicesKey(prefix);
  }

  async get(id: string): Promise<Device | undefined> {
    const json = await this.redis.hget(this.key, id);
    return json === null ? undefined : parse(id, json);
  }

  async list(): Promise<Device[]> {
    const all = await this.redis.hgetall(this.key);
    return Object.entries(all)
      .map(([id, json]) => parse(id, json))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async put(device: Device): Promise<void> {
    const { id, ...rest } = device;
    await this.redis.hset(this.key, id, JSON.stringify(rest));
  }

  async remove(id: string): Promise<boolean> {
    return (await this.redis.hdel(this.key, id)) > 0;
  }
}
