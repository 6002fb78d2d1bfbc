import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { startApiServer, type RunningApiServer } from '../../src/api/server.js';
import { SseConnection } from '../../src/api/sse-connection.js';
import { compileConfig, readRawConfig } from '../../src/config/index.js';
import { FleetError } from '../../src/errors.js';
import { FakeStateTable, FakeWarehouse, vehicle } from '../support/api-fakes.js';
import { SseReader } from '../support/sse-client.js';

const config = (vars: Record<string, string> = {}) =>
  compileConfig(readRawConfig({}, { API_AUTH: 'off', PORT: '0', ...vars }), {});

describe('GET /v1/stream (Server-Sent Events)', () => {
  let server: RunningApiServer | null = null;
  const readers: SseReader[] = [];
  afterEach(async () => {
    for (const r of readers.splice(0)) r.close();
    await server?.close();
    server = null;
  });

  async function start(table: FakeStateTable, vars: Record<string, string> = {}, heartbeatMs = 15_000) {
    server = await startApiServer({
      config: config(vars),
      table,
      warehouse: new FakeWarehouse(),
      registry: new Registry(),
      stream: { heartbeatMs },
    });
    return server;
  }
  async function connect(query = '', headers: Record<string, string> = {}) {
    const reader = new SseReader();
    readers.push(reader);
    await reader.open(`${server!.url}/v1/stream${query}`, headers);
    return reader;
  }

  it('pushes every change, filtered per connection by vehicle and by box, over one subscription', async () => {
    const table = new FakeStateTable();
    await start(table);
    const all = await connect();
    const one = await connect('?vehicle=v2');
    const paris = await connect('?bbox=2.2,48.8,2.5,48.9');
    expect(all.status).toBe(200);
    expect(all.headers['content-type']).toContain('text/event-stream');
    await all.waitFor('ready');
    expect(table.listeners.size).toBe(1);

    const t = Date.now();
    table.emit(vehicle('v1', 48.85, 2.35, t)); // Paris
    table.emit(vehicle('v2', 51.5, -0.12, t)); // London
    table.emit(vehicle('v3', 48.86, 2.29, t, { speed: 30 })); // Paris

    const got = await all.waitFor('position', 3);
    expect(got.map((e) => e.vehicleId).sort()).toEqual(['v1', 'v2', 'v3']);
    expect(got.find((e) => e.vehicleId === 'v3')).toMatchObject({ speed: 30, stale: false });
    expect((await one.waitFor('position', 1)).map((e) => e.vehicleId)).toEqual(['v2']);
    expect((await paris.waitFor('position', 2)).map((e) => e.vehicleId).sort()).toEqual(['v1', 'v3']);
    // The filtered streams got nothing else.
    expect(one.events.filter((e) => e.event === 'position')).toHaveLength(1);
    expect(paris.events.filter((e) => e.event === 'position')).toHaveLength(2);
  });

  it('refuses connections beyond MAX_SSE_CLIENTS with 503 and accepts again after one leaves', async () => {
    const table = new FakeStateTable();
    await start(table, { MAX_SSE_CLIENTS: '2' });
    const a = await connect();
    await connect();
    const third = await connect();
    expect(third.status).toBe(503);
    expect(JSON.parse(third.body)).toMatchObject({ code: 'too_many_streams' });
    expect(third.headers['retry-after']).toBeDefined();

    a.close();
    const deadline = Date.now() + 5000;
    let again = await connect();
    while (again.status !== 200 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      again = await connect();
    }
    expect(again.status).toBe(200);
  });

  it('sends heartbeat comments', async () => {
    await start(new FakeStateTable(), {}, 50);
    const reader = await connect();
    await reader.waitFor('ready');
    const deadline = Date.now() + 5000;
    while (!reader.comments.includes('ping') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(reader.comments).toContain('ping');
  });

  it('answers 503 when the change feed cannot be subscribed, 400 on bad filters', async () => {
    const table = new FakeStateTable();
    table.subscribeError = new FleetError('redis down', { retriable: true });
    await start(table);
    const reader = await connect();
    expect(reader.status).toBe(503);
    expect((await connect('?bbox=1,2')).status).toBe(400);
    expect((await connect('?vehicle=a%20b')).status).toBe(400);
  });

  it('closing the server ends open streams', async () => {
    const table = new FakeStateTable();
    await start(table);
    const reader = await connect();
    await reader.waitFor('ready');
    expect(table.listeners.size).toBe(1);
    expect(reader.ended).toBe(false);
    // close() must not wait for the open stream to go away by itself (it never would).
    const closed = server!.close().then(() => 'closed' as const);
    const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 5000).unref());
    expect(await Promise.race([closed, timeout])).toBe('closed');
    server = null;
    await reader.waitForEnd();
    expect(reader.ended).toBe(true);
    expect(table.listeners.size).toBe(0);
  });
});

/** A writable whose buffer fills after `capacity` bytes and drains only when told to. */
class SlowClient extends Writable {
  received = '';
  private pendingCallbacks: (() => void)[] = [];
  constructor(capacity: number) {
    super({ highWaterMark: capacity, decodeStrings: false });
  }
  override _write(chunk: string, _enc: BufferEncoding, callback: () => void): void {
    this.received += chunk;
    this.pendingCallbacks.push(callback);
  }
  /** The client reads: every buffered write completes, 'drain' follows. */
  read_(): void {
    for (const cb of this.pendingCallbacks.splice(0)) cb();
  }
}

describe('SseConnection backpressure', () => {
  const frame = (id: string, n: number) => `event: position\ndata: {"vehicleId":"${id}","n":${n}}\n\n`;

  it('coalesces to the latest update per vehicle while the client is behind, then sends it', async () => {
    const out = new SlowClient(16);
    const conn = new SseConnection({ out, schedule: (fn) => fn() });
    conn.push('a', frame('a', 1)); // more than the 16-byte buffer holds
    expect(conn.isBlocked).toBe(true);
    for (let n = 2; n <= 50; n++) conn.push('a', frame('a', n));
    conn.push('b', frame('b', 1));
    expect(conn.pendingCount).toBe(2);
    expect(conn.coalesced).toBe(48);
    expect(out.received).toBe(frame('a', 1));

    out.read_();
    await new Promise((r) => setImmediate(r));
    expect(out.received).toBe(frame('a', 1) + frame('a', 50) + frame('b', 1));
    expect(conn.sent).toBe(3);
  });

  it('drops the oldest pending vehicle beyond maxPending and skips heartbeats while blocked', () => {
    const out = new SlowClient(1);
    const lost: string[] = [];
    const conn = new SseConnection({
      out,
      schedule: (fn) => fn(),
      maxPending: 3,
      onLoss: (k) => lost.push(k),
    });
    conn.push('first', frame('first', 1));
    for (const id of ['a', 'b', 'c', 'd']) conn.push(id, frame(id, 1));
    expect(conn.pendingCount).toBe(3);
    expect(conn.dropped).toBe(1);
    expect(lost).toEqual(['dropped']);
    conn.comment('ping');
    expect(out.received).toBe(frame('first', 1));
  });

  it('sends many updates arriving in one tick as one write', async () => {
    const writes: string[] = [];
    const out = new Writable({
      write(chunk: Buffer, _enc, cb) {
        writes.push(chunk.toString());
        cb();
      },
    });
    const conn = new SseConnection({ out });
    for (let i = 0; i < 100; i++) conn.push(`v${i}`, frame(`v${i}`, i));
    await new Promise((r) => setImmediate(r));
    expect(writes).toHaveLength(1);
    expect(writes[0]!.split('event: position').length - 1).toBe(100);
  });
});
