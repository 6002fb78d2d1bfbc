import type { Counter, Registry } from 'prom-client';
import type { GatewayConfig } from '../../config/gateway.js';
import { deviceTokenMatches } from '../../domain/device.js';
import { FleetError } from '../../errors.js';
import { counter } from '../../metrics.js';
import type { DeviceLookup } from './device-cache.js';
import { TokenBuckets } from './token-bucket.js';

/** Why the gateway refused a report (the `reason` label of `fleet_gateway_rejected_total`). */
export type RejectReason =
  | 'invalid'
  | 'future_timestamp'
  | 'stale_timestamp'
  | 'unknown_device'
  | 'bad_token'
  | 'rate_device'
  | 'rate_address';

export function rejectedCounter(registry: Registry): Counter<'reason'> {
  return counter(registry, {
    name: 'fleet_gateway_rejected_total',
    help: 'Reports the ingest gateway refused, by reason: positions for invalid / future_timestamp / stale_timestamp, requests for unknown_device / bad_token / rate_device / rate_address.',
    labelNames: ['reason'],
  });
}

/** A request the guard turns away: answered with `status` and `code` (and `Retry-After`). */
export class GatewayRefusal extends FleetError {
  constructor(
    readonly status: 401 | 403 | 429,
    readonly code: RejectReason,
    message: string,
    readonly retryAfterS?: number,
  ) {
    super(message);
  }
}

export interface GatewayGuardOptions {
  config: GatewayConfig;
  devices: DeviceLookup;
  registry: Registry;
  now?: () => number;
}

/**
 * The gateway's admission rules, in order: the source address's rate, then every device of the
 * request must be registered (unless unknown devices are accepted) and present its token when it
 * has one, then each device's rate. Throws {@link GatewayRefusal}; counts every refusal.
 */
export class GatewayGuard {
  private readonly perAddress: TokenBuckets;
  private readonly perDevice: TokenBuckets;
  private readonly rejected: Counter<'reason'>;

  constructor(private readonly options: GatewayGuardOptions) {
    this.perAddress = new TokenBuckets(options.config.perAddress, options.now);
    this.perDevice = new TokenBuckets(options.config.perDevice, options.now);
    this.rejected = rejectedCounter(options.registry);
  }

  admitAddress(address: string): void {
    const wait = this.perAddress.take(address);
    if (wait > 0) {
      this.refuse(429, 'rate_address', `too many requests from ${address}; retry in ${wait} s`, wait);
    }
  }

  async admitDevices(ids: Iterable<string>, token: string | undefined): Promise<void> {
    const distinct = [...new Set(ids)];
    for (const id of distinct) {
      const device = await this.options.devices.get(id);
      if (device === undefined) {
        if (this.options.config.unknownDevices === 'reject') {
          this.refuse(403, 'unknown_device', `device '${id}' is not registered (fleet devices add ${id})`);
        }
      } else if (!deviceTokenMatches(device, token)) {
        this.refuse(
          401,
          'bad_token',
          token === undefined
            ? `device '${id}' needs its token (Authorization: Bearer <token> or X-Device-Token)`
            : `wrong token for device '${id}'`,
        );
      }
    }
    for (const id of distinct) {
      const wait = this.perDevice.take(id);
      if (wait > 0)
        this.refuse(429, 'rate_device', `device '${id}' sends too often; retry in ${wait} s`, wait);
    }
  }

  private refuse(status: 401 | 403 | 429, code: RejectReason, message: string, retryAfterS?: number): never {
    this.rejected.inc({ reason: code });
    throw new GatewayRefusal(status, code, message, retryAfterS);
  }
}

/** The device token of a request: `Authorization: Bearer <token>` or `X-Device-Token`. */
export function deviceToken(headers: Record<string, string | string[] | undefined>): string | undefined {
  const auth = headers.authorization;
  if (typeof auth === 'string' && /^bearer\s+/i.test(auth)) return auth.replace(/^bearer\s+/i, '').trim();
  const header = headers['x-device-token'];
  return typeof header === 'string' && header !== '' ? header : undefined;
}
