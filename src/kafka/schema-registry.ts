import { SchemaRegistryError } from '../errors.js';

/** Compatibility levels of the Confluent API (the registry checks a new version against older ones). */
export type CompatibilityLevel =
  'NONE' | 'BACKWARD' | 'BACKWARD_TRANSITIVE' | 'FORWARD' | 'FORWARD_TRANSITIVE' | 'FULL' | 'FULL_TRANSITIVE';

export interface SchemaRegistryOptions {
  /** Base URL of a Confluent-compatible API, e.g. `http://127.0.0.1:8081` or Apicurio's `…/apis/ccompat/v7`. */
  url: string;
  /** HTTP basic auth (Confluent Cloud: API key and secret). */
  auth?: { username: string; password: string };
  /** Per request. @default 5000 (ms) */
  timeoutMs?: number;
}

/** The Confluent error codes this client tells apart. */
export const REGISTRY_ERRORS = {
  subjectNotFound: 40401,
  versionNotFound: 40402,
  schemaNotFound: 40403,
  incompatible: 409,
  invalidSchema: 42201,
} as const;

/**
 * A small client of the Confluent Schema Registry REST API — the part a producer and a consumer of
 * Avro need: register (or look up) a subject's schema, fetch a schema by id, set a subject's
 * compatibility. Works against Confluent, Apicurio's ccompat API and other compatible registries.
 * Failures are {@link SchemaRegistryError}s, retriable exactly when the registry is unreachable or
 * answers 5xx/429, so callers can keep "registry down" apart from "schema refused".
 */
export class SchemaRegistryClient {
  private readonly base: string;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;

  constructor(options: SchemaRegistryOptions) {
    this.base = options.url.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.headers = {
      accept: 'application/vnd.schemaregistry.v1+json, application/json',
      'content-type': 'application/vnd.schemaregistry.v1+json',
      ...(options.auth
        ? {
            authorization: `Basic ${Buffer.from(`${options.auth.username}:${options.auth.password}`).toString('base64')}`,
          }
        : {}),
    };
  }

  /**
   * Registers `schema` under `subject` (a no-op returning the existing id when it is already
   * there) and returns its global id. An incompatible schema fails with status 409.
   */
  async register(subject: string, schema: object): Promise<number> {
    const body = { schemaType: 'AVRO', schema: JSON.stringify(schema) };
    const res = await this.request<{ id: number }>(
      'POST',
      `/subjects/${encodeURIComponent(subject)}/versions`,
      body,
    );
    return res.id;
  }

  /** The schema text of a global id; an unknown id fails with error code 40403 (not retriable). */
  async schemaById(id: number): Promise<object> {
    const res = await this.request<{ schema: string }>('GET', `/schemas/ids/${id}`);
    return JSON.parse(res.schema) as object;
  }

  /** The subject's own compatibility level; null when it has none (the registry default applies). */
  async compatibility(subject: string): Promise<CompatibilityLevel | null> {
    try {
      const res = await this.request<{ compatibilityLevel?: CompatibilityLevel }>(
        'GET',
        `/config/${encodeURIComponent(subject)}`,
      );
      return res.compatibilityLevel ?? null;
    } catch (err) {
      if (err instanceof SchemaRegistryError && err.status === 404) return null;
      throw err;
    }
  }

  async setCompatibility(subject: string, level: CompatibilityLevel): Promise<void> {
    await this.request('PUT', `/config/${encodeURIComponent(subject)}`, { compatibility: level });
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const what = `${method} ${this.base}${path}`;
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, {
        method,
        headers: this.headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new SchemaRegistryError(
        `schema registry unreachable (${what}): ${(err as Error).message}`,
        undefined,
        undefined,
        {
          retriable: true,
          cause: err,
        },
      );
    }
    const text = await res.text().catch(() => '');
    if (res.ok) {
      try {
        return JSON.parse(text) as T;
      } catch (err) {
        throw new SchemaRegistryError(`schema registry answered non-JSON to ${what}`, res.status, undefined, {
          retriable: true,
          cause: err,
        });
      }
    }
    let detail: { error_code?: number; message?: string } = {};
    try {
      detail = JSON.parse(text) as typeof detail;
    } catch {
      /* not JSON: keep the status line */
    }
    throw new SchemaRegistryError(
      `schema registry refused ${what}: ${res.status} ${detail.message ?? text.slice(0, 300)}`,
      res.status,
      detail.error_code,
      { retriable: res.status >= 500 || res.status === 429 || res.status === 408 },
    );
  }
}
