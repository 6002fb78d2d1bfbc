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

type Query = Record<string, string | number | undefined>;

function apiUrl(target: ApiTarget, path: string, query: Query): URL {
  const url = new URL(path, target.url.endsWith('/') ? target.url : `${target.url}/`);
  for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v));
  return url;
}

async function request(target: ApiTarget, url: URL, accept: string, signal: AbortSignal): Promise<Response> {
  try {
    return await fetch(url, {
      headers: { accept, ...(target.apiKey ? { 'x-api-key': target.apiKey } : {}) },
      signal,
    });
  } catch (err) {
    const why =
      err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
    throw new ApiCallError(
      `cannot reach the API at ${target.url} (${why}); is \`fleet serve\` running? (--url)`,
    );
  }
}

async function failure(res: Response): Promise<ApiCallError> {
  const text = await res.text();
  let message = text.slice(0, 200);
  try {
    message = (JSON.parse(text) as { message?: string }).message ?? message;
  } catch {
    // Not JSON: the text itself.
  }
  const hint = res.status === 401 ? ' (pass --api-key or set API_KEY)' : '';
  return new ApiCallError(`HTTP ${res.status}: ${message}${hint}`, res.status);
}

/**
 * Reads a Server-Sent Events stream (`path`), calling `onEvent` with each event's name and parsed
 * data, until the server ends it (resolves) or `signal` aborts (resolves too).
 */
export async function apiStream(
  target: ApiTarget,
  path: string,
  query: Query,
  onEvent: (name: string, data: unknown) => void,
  signal: AbortSignal,
): Promise<void> {
  const res = await request(target, apiUrl(target, path, query), 'text/event-stream', signal);
  if (!res.ok || !res.body) throw await failure(res);
  let buffer = '';
  try {
    for await (const chunk of res.body.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const lines = buffer.slice(0, end).split('\n');
        buffer = buffer.slice(end + 2);
        const name = lines.find((l) => l.startsWith('event: '))?.slice(7) ?? 'message';
        const data = lines.find((l) => l.startsWith('data: '))?.slice(6);
        if (data !== undefined) onEvent(name, JSON.parse(data));
      }
    }
  } catch (err) {
    if (!signal.aborted) throw err;
  }
}

/** GETs `path` with query parameters and returns the JSON answer. */
export async function apiGet<T>(target: ApiTarget, path: string, query: Query = {}): Promise<T> {
  const res = await request(
    target,
    apiUrl(target, path, query),
    'application/json',
    AbortSignal.timeout(target.timeoutMs ?? 10_000),
  );
  if (!res.ok) throw await failure(res);
  const text = await res.text();
  try {
    return (text ? JSON.parse(text) : null) as T;
  } catch {
    throw new ApiCallError(`the API at ${target.url} answered ${path} with something that is not JSON`);
  }
}
