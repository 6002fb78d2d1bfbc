import { ConfigError } from '../errors.js';
import { keyMatcher } from './auth.js';

/** Who may read a server's `/metrics`: its bind address and the bearer key (METRICS_KEY). */
export interface MetricsAccessOptions {
  /** The interface the server listens on (HOST, METRICS_HOST). */
  host: string;
  /** METRICS_KEY; when set, every `/metrics` request must bring it as `Authorization: Bearer`. */
  key?: string | undefined;
}

export type MetricsDecision = { ok: true } | { ok: false; status: 401 | 403; code: string; message: string };

/** 127.0.0.0/8, ::1 (also IPv4-mapped) and `localhost`: reachable from this machine only. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^(::ffff:)?127(\.\d{1,3}){3}$/.test(bare);
}

/**
 * For a server whose bind address the operator chose for its metrics (METRICS_HOST): listening
 * beyond loopback without a key would publish the metrics to the network, so it refuses to start.
 */
export function assertMetricsExposure(options: MetricsAccessOptions, variable = 'METRICS_HOST'): void {
  if (options.key === undefined && !isLoopbackHost(options.host)) {
    throw new ConfigError(
      'METRICS_KEY',
      `${variable}=${options.host} serves /metrics beyond this machine: set METRICS_KEY=<at least 32 characters> (scrapers send Authorization: Bearer <key>), or bind ${variable} to 127.0.0.1`,
    );
  }
}

/**
 * Decides each `/metrics` request from its `Authorization` header: with a key, the bearer must
 * match it (constant time); without one, only a loopback-bound server answers.
 */
export function metricsAccess(
  options: MetricsAccessOptions,
): (authorization: string | undefined) => MetricsDecision {
  const matches = options.key === undefined ? null : keyMatcher([options.key]);
  const loopback = isLoopbackHost(options.host);
  return (authorization) => {
    if (matches === null) {
      if (loopback) return { ok: true };
      return {
        ok: false,
        status: 403,
        code: 'metrics_key_required',
        message: `/metrics is not served on ${options.host} without METRICS_KEY; set it and send Authorization: Bearer <key>`,
      };
    }
    const given = authorization?.startsWith('Bearer ') ? authorization.slice(7).trim() : undefined;
    if (given !== undefined && matches(given)) return { ok: true };
    return {
      ok: false,
      status: 401,
      code: given === undefined ? 'missing_metrics_key' : 'invalid_metrics_key',
      message:
        given === undefined
          ? '/metrics needs the metrics key: send Authorization: Bearer <METRICS_KEY>'
          : 'the metrics key is not valid',
    };
  };
}
