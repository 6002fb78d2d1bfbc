import type { Config } from '../../config/config.js';
import type { GatewayConfig } from '../../config/gateway.js';
import type { DeviceStore } from '../../domain/device.js';
import type { Logger } from '../../logger.js';
import { createRedisConnection } from '../../state/redis-connection.js';
import { RedisDeviceStore } from '../../state/redis-device-store.js';
import { CachedDevices, type DeviceLookup } from './device-cache.js';

export interface OpenDeviceRegistry {
  /** The store itself (API, CLI). */
  store: DeviceStore;
  /** What the gateway server takes as `security`. */
  security: { gateway: GatewayConfig; devices: DeviceLookup };
  close(): Promise<void>;
}

/** Connects to the registry in Redis (REDIS_URL / REDIS_CLUSTER_NODES, REDIS_PREFIX). */
export function openDeviceRegistry(
  config: Readonly<Pick<Config, 'redis' | 'gateway'>>,
  logger: Logger,
): OpenDeviceRegistry {
  const redis = createRedisConnection(config.redis, logger, { connectionName: 'fleet-devices' });
  const store = new RedisDeviceStore(redis, config.redis.prefix);
  return {
    store,
    security: {
      gateway: config.gateway,
      devices: new CachedDevices(store, config.gateway.deviceCacheMs, logger),
    },
    close: async () => {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
