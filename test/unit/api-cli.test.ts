import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startApiServer, type RunningApiServer } from '../../src/api/server.js';
import { Command } from 'commander';
import { registerQuery } from '../../src/cli/commands/query.js';
import { formatTable } from '../../src/cli/format-table.js';
import { compileConfig, readRawConfig } from '../../src/config/index.js';
import { FakeStateTable, FakeWarehouse, historyRow, vehicle } from '../support/api-fakes.js';

const KEY = 'cli-test-key-0123456789abcdef012345';

describe('fleet where / nearby / history / summary', () => {
  const table = new FakeStateTable();
  const warehouse = new FakeWarehouse();
  let server: RunningApiServer;
  const now = Date.now();

  beforeAll(async () => {
    table.put(
      vehicle('bus-1', 48.8566, 2.3522, now - 3000, { speed: 42.25, heading: 90 }),
      vehicle('bus-2', 48.8606, 2.3376, now - 120_000),
    );
    for (let i = 0; i < 3; i++)
      warehouse.rows.push(historyRow('bus-1', now - (30 - i) * 60_000, 48.85 + i / 1000, 2.35, 10 + i));
    server = await startApiServer({
      config: compileConfig(readRawConfig({}, { API_KEYS: KEY, PORT: '0' }), {}),
      table,
      warehouse,
      registry: new Registry(),
    });
  });
  afterAll(() => server.close());

  async function run(...args: string[]): Promise<string> {
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      out.push(String(chunk));
      return true;
    });
    try {
      const program = new Command('fleet').exitOverride();
      registerQuery(program);
      await program.parseAsync(['node', 'fleet', ...args, '--url', server.url, '--api-key', KEY]);
    } finally {
      spy.mockRestore();
    }
    return out.join('');
  }

  it('where prints the latest position as a field table', async () => {
    const text = await run('where', 'bus-1');
    expect(text).toMatch(/^field\s+value/);
    expect(text).toMatch(/vehicle\s+bus-1/);
    expect(text).toMatch(/lat, lon\s+48\.856600, 2\.352200/);
    expect(text).toMatch(/speed km\/h\s+42\.3/);
  });

  it('nearby prints vehicles nearest first with distances', async () => {
    const text = await run('nearby', '--lat', '48.8566', '--lon', '2.3522', '--radius', '5000');
    const lines = text.trim().split('\n');
    expect(lines[0]).toMatch(/^vehicle\s+distance m\s+lat\s+lon\s+speed\s+age\s+stale$/);
    expect(lines[1]).toMatch(/^bus-1\s+0\.0\s/);
    expect(lines[2]).toMatch(/^bus-2\s+1\d{3}\.\d\s.*yes$/);
  });

  it('history prints the positions of the window, oldest first', async () => {
    const text = await run('history', 'bus-1', '--since', '2h');
    const lines = text.trim().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[1]).toContain('48.850000');
    expect(lines[3]).toContain('48.852000');
    const call = warehouse.historyCalls.at(-1)!;
    expect(call.to - call.from).toBe(2 * 3600_000);
  });

  it('summary and --json print the API answer', async () => {
    expect(await run('summary', 'bus-1')).toMatch(/positions\s+3/);
    const json = JSON.parse(await run('where', 'bus-2', '--json'));
    expect(json).toMatchObject({ vehicleId: 'bus-2', stale: true });
  });
});

describe('formatTable', () => {
  it('aligns columns, numbers to the right, and shows - for missing values', () => {
    const text = formatTable(
      [
        { a: 'x', n: 1, m: null },
        { a: 'longer', n: 100, m: 'z' },
      ],
      [
        { header: 'name', value: (r) => r.a },
        { header: 'n', value: (r) => r.n },
        { header: 'm', value: (r) => r.m },
      ],
    );
    expect(text.split('\n')).toEqual(['name      n  m', 'x         1  -', 'longer  100  z']);
  });
});
