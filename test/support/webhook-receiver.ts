import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface WebhookRequest {
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The status the receiver answered. */
  status: number;
}

/**
 * A local HTTP receiver of webhooks that records every request. `answer(eventId, attempt)` picks
 * the status of the attempt-th request (1-based) for that event id (X-Fleet-Event-Id).
 */
export async function startWebhookReceiver(
  answer: (eventId: string, attempt: number) => number = () => 200,
): Promise<{ url: string; requests: WebhookRequest[]; close(): Promise<void> }> {
  const requests: WebhookRequest[] = [];
  const attempts = new Map<string, number>();
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const id = String(req.headers['x-fleet-event-id'] ?? '');
      const attempt = (attempts.get(id) ?? 0) + 1;
      attempts.set(id, attempt);
      const status = answer(id, attempt);
      requests.push({ headers: req.headers, body, status });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/fleet`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
