import { createHmac } from 'node:crypto';
import { errorMessage, SinkError } from '../errors.js';

/** Headers of a webhook request. */
export const WEBHOOK_HEADERS = {
  signature: 'x-fleet-signature',
  timestamp: 'x-fleet-timestamp',
  eventId: 'x-fleet-event-id',
} as const;

/**
 * `sha256=<hex>`: HMAC-SHA256 with the shared secret over `<timestamp>.<body>`. Signing the
 * timestamp (unix seconds, sent in X-Fleet-Timestamp) lets a receiver refuse old requests
 * (replays) by checking it is recent, e.g. within 5 minutes.
 */
export function webhookSignature(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export interface WebhookTarget {
  url: string;
  secret: string;
  /** @default 5000 (ms) */
  timeoutMs?: number;
  /** Unix seconds of the signature. @default the clock */
  now?: () => number;
}

/**
 * POSTs one event (its JSON as the body) to the receiver, signed afresh on every attempt. A 2xx is
 * delivered; a network error, timeout, 408, 429 or 5xx is a retriable {@link SinkError}; any other
 * answer is final (the receiver refuses the event, retrying would not change that).
 */
export async function postWebhook(target: WebhookTarget, eventId: string, body: string): Promise<void> {
  const timestamp = Math.floor((target.now?.() ?? Date.now()) / 1000);
  let res: Response;
  try {
    res = await fetch(target.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        [WEBHOOK_HEADERS.timestamp]: String(timestamp),
        [WEBHOOK_HEADERS.signature]: webhookSignature(target.secret, timestamp, body),
        [WEBHOOK_HEADERS.eventId]: eventId,
      },
      body,
      signal: AbortSignal.timeout(target.timeoutMs ?? 5000),
    });
  } catch (err) {
    const why = (err as { cause?: unknown }).cause ?? err;
    throw new SinkError('webhook', `cannot reach ${target.url}: ${errorMessage(why)}`, {
      cause: err,
      retriable: true,
    });
  }
  await res.arrayBuffer().catch(() => undefined);
  if (res.ok) return;
  const retriable = res.status === 408 || res.status === 429 || res.status >= 500;
  throw new SinkError('webhook', `${target.url} answered HTTP ${res.status}`, { retriable });
}
