import http from 'node:http';

export interface SseEvent {
  event: string;
  data: string;
}

/**
 * A minimal Server-Sent Events reader over node:http for tests: collects events and comments and
 * lets a test wait for the n-th matching one.
 */
export class SseReader {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  status = 0;
  headers: http.IncomingHttpHeaders = {};
  body = '';
  /** True once the server ended the response (or the connection dropped). */
  ended = false;
  private buffer = '';
  private request: http.ClientRequest | null = null;
  private waiters: (() => void)[] = [];

  /** Resolves with the response status once headers (and for errors, the body) arrived. */
  open(url: string, headers: Record<string, string> = {}): Promise<number> {
    return new Promise((resolve, reject) => {
      this.request = http.get(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
        this.status = res.statusCode ?? 0;
        this.headers = res.headers;
        res.setEncoding('utf8');
        if (this.status !== 200) {
          res.on('data', (chunk: string) => (this.body += chunk));
          res.on('end', () => resolve(this.status));
          return;
        }
        res.on('data', (chunk: string) => this.feed(chunk));
        res.on('error', () => undefined);
        res.on('close', () => {
          this.ended = true;
          for (const w of this.waiters.splice(0)) w();
        });
        resolve(this.status);
      });
      this.request.on('error', (err) => (this.status ? undefined : reject(err)));
    });
  }

  /** Waits until `count` events named `event` (and matching `where`) have arrived. */
  async waitFor(
    event: string,
    count = 1,
    where: (data: unknown) => boolean = () => true,
    timeoutMs = 10_000,
  ) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.filter((e) => e.event === event && where(JSON.parse(e.data)));
      if (found.length >= count) return found.map((e) => JSON.parse(e.data) as Record<string, unknown>);
      if (Date.now() > deadline) {
        throw new Error(
          `timed out waiting for ${count} '${event}' events; got ${JSON.stringify(this.events)}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Waits until the server ended the response; throws after `timeoutMs`. */
  async waitForEnd(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended) {
      if (Date.now() > deadline) throw new Error('timed out waiting for the stream to end');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.request?.destroy();
  }

  private feed(chunk: string): void {
    this.buffer += chunk;
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) this.comments.push(line.slice(1).trim());
        else if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
      }
      if (data.length > 0) this.events.push({ event, data: data.join('\n') });
    }
    for (const w of this.waiters.splice(0)) w();
  }
}
