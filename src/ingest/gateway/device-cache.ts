import type { Device, DeviceStore } from '../../domain/device.js';
import { errorMessage, FleetError } from '../../errors.js';
import { silentLogger, type Logger } from '../../logger.js';

/** Looks a device up by id; what the gateway needs of the registry. */
export interface DeviceLookup {
  get(id: string): Promise<Device | undefined>;
}

/**
 * The registry as the gateway sees it: a snapshot of the whole store, read again once it is older
 * than `ttlMs` (one reader at a time), so a position costs a map lookup, not a Redis round trip.
 * When Redis fails the last snapshot stays in use; with none yet, lookups fail retriably (503).
 */
export class CachedDevices implements DeviceLookup {
  private snapshot: Map<string, Device> | null = null;
  private loadedAt = 0;
  private loading: Promise<void> | null = null;

  constructor(
    private readonly store: Pick<DeviceStore, 'list'>,
    private readonly ttlMs: number,
    private readonly logger: Logger = silentLogger,
    private readonly now: () => number = Date.now,
  ) {}

  async get(id: string): Promise<Device | undefined> {
    if (this.snapshot === null || this.now() - this.loadedAt >= this.ttlMs) {
      const refresh = this.refresh();
      // A stale snapshot answers at once; only the very first load is waited for.
      if (this.snapshot === null) await refresh;
      else refresh.catch(() => undefined);
    }
    return this.snapshot!.get(id);
  }

  private refresh(): Promise<void> {
    this.loading ??= this.store
      .list()
      .then((devices) => {
        this.snapshot = new Map(devices.map((d) => [d.id, d]));
        this.loadedAt = this.now();
      })
      .catch((err: unknown) => {
        this.logger.warn({ err: errorMessage(err) }, 'gateway: device registry not readable');
        if (this.snapshot === null) {
          throw new FleetError(`device registry unavailable: ${errorMessage(err)}`, {
            cause: err,
            retriable: true,
          });
        }
      })
      .finally(() => {
        this.loading = null;
      });
    return this.loading;
  }
}
