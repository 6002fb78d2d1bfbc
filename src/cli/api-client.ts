import { FleetError } from '../errors.js';

/** Where the CLI finds the query API. */
export interface ApiTarget {
  /** Base URL. @default http://127.0.0.1:8080 */
  url: string;
  /** Sent as x-api-key when set. */
  apiKey?: string;
  /** @default 10_000 (ms) */
  timeoutMs?: number;
}

/** A failed call to the query API, with the server's message (4xx) or why it could not be reached. */
export class ApiCallError extends FleetError {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message, { retriable: status === undefined || status >= 500 });
  }
}

/** GETs `path` with query parameters and returns the JSON answer. */
export async function apiGet<T>(
  target: ApiTarget,
  path: string,
  query: Record<string, string | number | undefined> = {},
): Promise<T> {
  const url = new URL(path, target.url.endsWith('/') ? target.url : `${target.url}/`);
  for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v));
  let res: Response;
  try {
    res = await fetch(url, {
      headers: { accept: 'application/json', ...(target.apiKey ? { 'x-api-key': target.apiKey } : {}) },
      signal: AbortSignal.timeout(target.timeoutMs ?? 10_000),
    });
  } catch (err) {
    const why =
      err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
    throw new ApiCallError(
      `cannot reach the API at ${target.url} (${why}); is \`fleet serve\` running? (--url)`,
    );
  }
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON: reported below with the status.
  }
  if (!res.ok) {
    const message = (body as { message?: string } | null)?.message ?? text.slice(0, 200);
    const hint = res.status === 401 ? ' (pass --api-key or set API_KEY)' : '';
    throw new ApiCallError(`HTTP ${res.status}: ${message}${hint}`, res.status);
  }
  return body as T;
}
