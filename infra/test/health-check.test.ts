import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpHealthCheck, httpHealthCheckScript } from '../lib/health-check.js';

// The container health check is `node -e <script>` inside the image: run the same script here.
let server: Server;
let port: number;
beforeAll(async () => {
  server = createServer((req, res) => res.writeHead(req.url === '/healthz' ? 200 : 503).end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

// Asynchronous: the server answering lives in this process's event loop.
const run = (script: string) =>
  new Promise<number | null>((resolve) =>
    spawn(process.execPath, ['-e', script], { stdio: 'ignore' }).on('exit', (code) => resolve(code)),
  );

describe('container health check', () => {
  it('exits 0 on a 2xx answer and 1 on a 503 or no answer', async () => {
    expect(await run(httpHealthCheckScript(port, '/healthz'))).toBe(0);
    expect(await run(httpHealthCheckScript(port, '/readyz'))).toBe(1);
    server.close();
    expect(await run(httpHealthCheckScript(port, '/healthz'))).toBe(1);
  });

  it('is an exec-form command ECS runs as is', () => {
    const check = httpHealthCheck(9464, '/healthz');
    expect(check.command.slice(0, 3)).toEqual(['CMD', 'node', '-e']);
  });
});
