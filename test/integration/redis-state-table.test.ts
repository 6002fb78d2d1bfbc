import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { haversineM } from '../../src/domain/geo.js';
import type { Position } from '../../src/domain/position.js';
import type { PositionRecord } from '../../src/domain/records.js';
import { SinkError, ValidationError } from '../../src/errors.js';
import type { StateChange, VehicleState } from '../../src/state/latest-state-table.js';
import {
  createRedisStateTable,
  type RedisStateTable,
  type RedisStateTableOptions,
} from '../../src/state/index.js';
import { shardKeys } from '../../src/state/shard-keys.js';
import { encodeRecord, UPSERT_LUA } from '../../src/state/upsert-script.js';
import { eventually, testConfig, testRedis, uniqueSuffix } from '../support/env.js';

const T0 = Date.UTC(2030, 0, 1);
let clock = T0;
const opened: RedisStateTable[] = [];

function openTable(overrides: Partial<RedisStateTableOptions> = {}): RedisStateTable {
  const config = testConfig();
  const table = createRedisStateTable({
    url: config.redis.url,
    prefix: config.redis.prefix,
    partitions: 3,
    registry: new Registry(),
    now: () => clock,
    ...overrides,
  });
  opened.push(table);
  return table;
}

afterEach(async () => {
  for (const table of opened.splice(0)) {
    await table.clear().catch(() => undefined);
    await table.close();
  }
});

function rec(
  vehicleId: string,
  ts: number,
  at: { partition?: number; offset?: string | number } = {},
  extra: Partial<Position> = {},
): PositionRecord {
  return {
    topic: 'vehicle_positions',
    topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
    partition: at.partition ?? 0,
    offset: String(at.offset ?? ts),
    kafkaTs: ts,
    bytes: 100,
    position: { vehicleId, ts, lat: 52.5, lon: 13.4, ...extra },
  };
}

/** The reference model of the forward-only rule: is `r` newer than the vehicle's current record? */
function newerThan(r: PositionRecord, cur: PositionRecord | undefined): boolean {
  return (
    cur === undefined ||
    r.position.ts > cur.position.ts ||
    (r.position.ts === cur.position.ts &&
      r.partition === cur.partition &&
      (r.offset.length !== cur.offset.length ? r.offset.length > cur.offset.length : r.offset > cur.offset))
  );
}

/** The table holds exactly the model's record (ts, partition, offset) for every vehicle of the model. */
async function expectTableMatches(table: RedisStateTable, model: Map<string, PositionRecord>) {
  const ids = [...model.keys()];
  const states = await table.getMany(ids);
  ids.forEach((id, i) => {
    const want = model.get(id)!;
    expect(states[i], id).toMatchObject({
      ts: want.position.ts,
      partition: want.partition,
      offset: want.offset,
    });
  });
}

describe('redis latest-state table: forward-only upserts', () => {
  it('never regresses on out-of-order records, across and within batches', async () => {
    const table = openTable();
    expect(await table.upsert([rec('v1', T0 + 3000, { offset: 3 }, { lat: 3 })])).toEqual({
      applied: 1,
      ignored: 0,
    });
    const older = [
      rec('v1', T0 + 1000, { offset: 4 }, { lat: 1 }),
      rec('v1', T0 + 2000, { offset: 5 }, { lat: 2 }),
    ];
    expect(await table.upsert(older)).toEqual({ applied: 0, ignored: 2 });
    expect((await table.get('v1'))?.lat).toBe(3);

    const shuffled = [5, 9, 2, 7].map((s) => rec('v2', T0 + s * 1000, { offset: 10 - s }, { lat: s }));
    expect(await table.upsert(shuffled)).toEqual({ applied: 1, ignored: 3 });
    expect(await table.get('v2')).toMatchObject({ ts: T0 + 9000, lat: 9, offset: '1' });
  });

  it('ignores duplicates and whole replays without touching the stored state', async () => {
    const table = openTable();
    const batch = ['a', 'b', 'c'].map((id, i) => rec(id, T0 + i, { offset: 100 + i }));
    clock = T0 + 1;
    expect(await table.upsert(batch)).toEqual({ applied: 3, ignored: 0 });
    const before = await table.getMany(['a', 'b', 'c']);
    clock = T0 + 99_999;
    expect(await table.upsert([...batch, ...batch])).toEqual({ applied: 0, ignored: 6 });
    expect(await table.getMany(['a', 'b', 'c'])).toEqual(before);
    expect(before.map((s) => s?.updatedAt)).toEqual([T0 + 1, T0 + 1, T0 + 1]);
  });

  it('breaks equal event times by offset within a partition, comparing offsets numerically', async () => {
    const table = openTable();
    const ts = T0 + 5000;
    await table.upsert([rec('v', ts, { partition: 1, offset: '9' }, { speed: 9 })]);
    expect(await table.upsert([rec('v', ts, { partition: 1, offset: '10' }, { speed: 10 })])).toMatchObject({
      applied: 1,
    });
    expect(await table.upsert([rec('v', ts, { partition: 1, offset: '8' }, { speed: 8 })])).toMatchObject({
      applied: 0,
    });
    expect(await table.upsert([rec('v', ts, { partition: 1, offset: '10' }, { speed: 99 })])).toMatchObject({
      applied: 0,
    });
    expect(await table.get('v')).toMatchObject({ offset: '10', speed: 10, partition: 1 });
  });

  it('compares event time only when a vehicle changes partition', async () => {
    const table = openTable();
    await table.upsert([rec('v', T0 + 10, { partition: 0, offset: 100 })]);
    expect(await table.upsert([rec('v', T0 + 10, { partition: 2, offset: 500 })])).toMatchObject({
      applied: 0,
    });
    expect(await table.upsert([rec('v', T0 + 11, { partition: 2, offset: 1 })])).toMatchObject({
      applied: 1,
    });
    expect(await table.get('v')).toMatchObject({ ts: T0 + 11, partition: 2, offset: '1' });
  });

  it('matches a record-by-record reference model on random batches (real Lua script)', async () => {
    const table = openTable({ chunkSize: 7 });
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const model = new Map<string, PositionRecord>();
    const offsets = [0, 0];
    for (let round = 0; round < 30; round++) {
      const batch: PositionRecord[] = [];
      for (let i = 0; i < 40; i++) {
        const partition = random() < 0.8 ? 0 : 1;
        offsets[partition]! += 1 + Math.floor(random() * 3);
        const id = `veh-${Math.floor(random() * 8)}`;
        batch.push(
          rec(id, T0 + Math.floor(random() * 6), { partition, offset: offsets[partition]! }, { lat: i }),
        );
      }
      if (round % 5 === 4) batch.push(...batch.slice(0, 10)); // replayed records
      let applied = 0;
      for (const r of batch) {
        if (newerThan(r, model.get(r.position.vehicleId))) {
          model.set(r.position.vehicleId, r);
          applied++;
        }
      }
      const result = await table.upsert(batch);
      expect(result.applied + result.ignored).toBe(batch.length);
      expect(result.applied).toBeLessThanOrEqual(applied);
      await expectTableMatches(table, model);
    }
  });

  it('the script alone applies raw chunks (repeats of a vehicle included) like the reference model', async () => {
    const config = testConfig();
    const p = config.redis.prefix;
    // One shard, so the table's reads find every vehicle the raw calls write.
    const table = openTable({ prefix: p, partitions: 1 });
    const redis = testRedis(config);
    const shard = shardKeys(p, 0);
    const keys = [shard.geo, shard.seen, shard.ids, shard.states, shard.versions];
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const model = new Map<string, PositionRecord>();
    const offsets = [0, 0, 0];
    try {
      for (let round = 0; round < 40; round++) {
        const chunk: PositionRecord[] = [];
        for (let i = 0; i < 9; i++) {
          const partition = Math.floor(random() * 3);
          offsets[partition]! += 1 + Math.floor(random() * 2);
          const id = `raw-${Math.floor(random() * 4)}`;
          chunk.push(rec(id, T0 + Math.floor(random() * 4), { partition, offset: offsets[partition]! }));
        }
        let expected = 0;
        for (const r of chunk) {
          if (newerThan(r, model.get(r.position.vehicleId))) {
            model.set(r.position.vehicleId, r);
            expected++;
          }
        }
        const fields = chunk.map((r) => encodeRecord(r, clock)).join('');
        expect(await redis.eval(UPSERT_LUA, 5, ...keys, shard.channel, fields, '0')).toBe(expected);
      }
      await expectTableMatches(table, model);
      expect(await table.count()).toBe(model.size);
    } finally {
      redis.disconnect();
    }
  });

  it('stores every field, drops optional fields a newer position lacks, and counts vehicles', async () => {
    const table = openTable();
    clock = T0 + 42;
    const full = {
      speed: 50.5,
      heading: 270,
      altitude: -3.25,
      accuracy: 4,
      battery: 88,
      attributes: { door: 'open', n: 1, ok: true, x: null },
    };
    await table.upsert([rec('full', T0, { partition: 2, offset: 77 }, { lat: -33.5, lon: 151.25, ...full })]);
    const expected: VehicleState = {
      vehicleId: 'full',
      ts: T0,
      lat: -33.5,
      lon: 151.25,
      ...full,
      partition: 2,
      offset: '77',
      updatedAt: T0 + 42,
    };
    expect(await table.get('full')).toEqual(expected);
    await table.upsert([rec('full', T0 + 1, { partition: 2, offset: 78 }, { speed: 1 })]);
    expect(await table.get('full')).toEqual({
      vehicleId: 'full',
      ts: T0 + 1,
      lat: 52.5,
      lon: 13.4,
      speed: 1,
      partition: 2,
      offset: '78',
      updatedAt: T0 + 42,
    });
    expect(await table.get('missing')).toBeNull();
    await table.upsert([rec('other', T0)]);
    expect(await table.count()).toBe(2);
  });

  it('getMany keeps the order of the ids and returns null for unknown vehicles', async () => {
    const table = openTable();
    await table.upsert(['x', 'y', 'z'].map((id, i) => rec(id, T0, { offset: i }, { lat: i })));
    const states = await table.getMany(['z', 'nope', 'x', 'y']);
    expect(states.map((s) => s?.vehicleId ?? null)).toEqual(['z', null, 'x', 'y']);
    expect(states.map((s) => s?.lat ?? null)).toEqual([2, null, 0, 1]);
    expect(await table.getMany([])).toEqual([]);
  });

  it('clear removes this prefix only', async () => {
    const mine = openTable();
    const other = openTable();
    await mine.upsert([rec('a', T0), rec('b', T0)]);
    await other.upsert([rec('a', T0)]);
    await mine.clear();
    expect(await mine.count()).toBe(0);
    expect(await mine.get('a')).toBeNull();
    expect(await mine.nearby({ lat: 52.5, lon: 13.4, radiusM: 1000 })).toEqual([]);
    expect(await other.get('a')).not.toBeNull();
  });
});

describe('redis latest-state table: queries', () => {
  const centre = { lat: 48.8566, lon: 2.3522 };
  // Ring of vehicles at growing distances and various bearings.
  const ring = Array.from({ length: 12 }, (_, i) => {
    const d = (i + 1) * 0.004;
    const angle = (i * 137 * Math.PI) / 180;
    return {
      id: `ring-${String(i).padStart(2, '0')}`,
      lat: centre.lat + d * Math.cos(angle),
      lon: centre.lon + d * Math.sin(angle),
    };
  });

  it('nearby returns vehicles inside the radius, nearest first, with haversine distances', async () => {
    const table = openTable();
    await table.upsert(ring.map((v, i) => rec(v.id, T0, { offset: i }, { lat: v.lat, lon: v.lon })));
    const expected = ring
      .map((v) => ({ id: v.id, d: haversineM(centre.lat, centre.lon, v.lat, v.lon) }))
      .sort((a, b) => a.d - b.d);
    const radiusM = (expected[6]!.d + expected[7]!.d) / 2;
    const hits = await table.nearby({ ...centre, radiusM });
    expect(hits.map((h) => h.vehicle.vehicleId)).toEqual(expected.slice(0, 7).map((e) => e.id));
    hits.forEach((h, i) => expect(Math.abs(h.distanceM - expected[i]!.d)).toBeLessThan(1));
    expect(
      (await table.nearby({ ...centre, radiusM: 1e6, limit: 3 })).map((h) => h.vehicle.vehicleId),
    ).toEqual(expected.slice(0, 3).map((e) => e.id));
  });

  it('refuses a malformed chunk before writing anything', async () => {
    const config = testConfig();
    const p = config.redis.prefix;
    const table = openTable({ prefix: p, partitions: 1 });
    const redis = testRedis(config);
    try {
      const good = encodeRecord(rec('whole', T0), clock);
      // One and a half records: the script must not apply the first one.
      const shard = shardKeys(p, 0);
      const keys = [shard.geo, shard.seen, shard.ids, shard.states, shard.versions];
      const err = await redis
        .eval(UPSERT_LUA, 5, ...keys, shard.channel, `${good}half\x1f1\x1f`, '0')
        .catch((e: unknown) => e);
      expect(String(err)).toMatch(/upsert: malformed chunk \(9 fields\)/);
      expect(await table.get('whole')).toBeNull();
      expect(await table.count()).toBe(0);
    } finally {
      redis.disconnect();
    }
  });

  it('keeps exact polar positions, indexing them at the edge of what GEO can hold', async () => {
    const table = openTable();
    const result = await table.upsert([
      rec('north', T0, {}, { lat: 89.9, lon: 10 }),
      rec('south', T0, {}, { lat: -90, lon: 0 }),
    ]);
    expect(result.applied).toBe(2);
    expect(await table.get('north')).toMatchObject({ lat: 89.9, lon: 10 });
    expect(await table.get('south')).toMatchObject({ lat: -90, lon: 0 });
    const near = await table.nearby({ lat: 90, lon: 10, radiusM: 10_000 });
    expect(near.map((n) => n.vehicle.vehicleId)).toEqual(['north']);
  });

  it('list pages through every vehicle in id order with a stable total', async () => {
    const table = openTable();
    const ids = Array.from({ length: 25 }, (_, i) => `veh-${String((i * 7) % 25).padStart(3, '0')}`);
    await table.upsert(ids.map((id, i) => rec(id, T0, { offset: i })));
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await table.list({ limit: 10, ...(cursor ? { cursor } : {}) });
      expect(page.total).toBe(25);
      seen.push(...page.vehicles.map((v) => v.vehicleId));
      cursor = page.nextCursor ?? undefined;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual([...ids].sort());
  });

  it('list filters by bounding box and event-time age, paginated, with the matching total', async () => {
    const table = openTable();
    const box = { minLat: 48.85, maxLat: 48.87, minLon: 2.34, maxLon: 2.36 };
    const now = T0 + 3_600_000;
    const vehicles = [
      { id: 'in-fresh-1', lat: 48.851, lon: 2.341, age: 1000 },
      { id: 'in-fresh-2', lat: 48.869, lon: 2.359, age: 5000 },
      { id: 'in-fresh-3', lat: 48.86, lon: 2.35, age: 0 },
      { id: 'in-old', lat: 48.86, lon: 2.35, age: 600_000 },
      { id: 'out-north', lat: 48.8705, lon: 2.35, age: 0 },
      { id: 'out-east', lat: 48.86, lon: 2.3605, age: 0 },
      { id: 'out-far', lat: -10, lon: 100, age: 0 },
    ];
    await table.upsert(
      vehicles.map((v, i) => rec(v.id, now - v.age, { offset: i }, { lat: v.lat, lon: v.lon })),
    );

    const inBox = await table.list({ bbox: box });
    expect(inBox.vehicles.map((v) => v.vehicleId)).toEqual([
      'in-fresh-1',
      'in-fresh-2',
      'in-fresh-3',
      'in-old',
    ]);
    expect(inBox.total).toBe(4);

    const fresh = await table.list({ maxAgeMs: 60_000, now });
    expect(fresh.total).toBe(6);
    expect(fresh.vehicles.map((v) => v.vehicleId)).not.toContain('in-old');

    const first = await table.list({ bbox: box, maxAgeMs: 60_000, now, limit: 2 });
    expect(first).toMatchObject({ total: 3 });
    expect(first.vehicles.map((v) => v.vehicleId)).toEqual(['in-fresh-1', 'in-fresh-2']);
    const second = await table.list({
      bbox: box,
      maxAgeMs: 60_000,
      now,
      limit: 2,
      cursor: first.nextCursor!,
    });
    expect(second.vehicles.map((v) => v.vehicleId)).toEqual(['in-fresh-3']);
    expect(second.nextCursor).toBeNull();
    await expect(table.list({ cursor: '!!not-a-cursor' })).rejects.toBeInstanceOf(ValidationError);
  });

  it('stale lists vehicles last seen before a time, stalest first', async () => {
    const table = openTable();
    await table.upsert([
      rec('s3', T0 + 300),
      rec('s1', T0 + 100),
      rec('fresh', T0 + 900),
      rec('s2', T0 + 200),
    ]);
    expect((await table.stale(T0 + 300)).map((v) => v.vehicleId)).toEqual(['s1', 's2']);
    expect((await table.stale(T0 + 301, 2)).map((v) => v.vehicleId)).toEqual(['s1', 's2']);
    expect(await table.stale(T0)).toEqual([]);
  });
});

describe('redis latest-state table: live changes', () => {
  it('publishes exactly the applied updates, as the stored state, until unsubscribed', async () => {
    const prefix = `test:changes:${uniqueSuffix()}:`;
    const table = openTable({ prefix });
    await table.upsert([rec('old', T0 + 50)]);
    const received: StateChange[] = [];
    const unsubscribe = await table.subscribe((c) => received.push(c));
    const second: StateChange[] = [];
    const unsubscribeSecond = await table.subscribe((c) => second.push(c));

    await table.upsert([
      rec('old', T0 + 10),
      rec('a', T0, {}, { attributes: { k: 'v"q' }, speed: 3 }),
      rec('b', T0),
    ]);
    await table.upsert([rec('a', T0 - 5)]);
    await table.upsert([rec('done', T0)]);
    await eventually(() => received.some((c) => c.vehicleId === 'done'), 5000, 10);
    expect(received.map((c) => c.vehicleId)).toEqual(['a', 'b', 'done']);
    expect(received[0]).toEqual(await table.get('a'));
    expect(second).toEqual(received);

    await unsubscribeSecond();
    await table.upsert([rec('c', T0)]);
    await eventually(() => received.some((c) => c.vehicleId === 'c'), 5000, 10);
    expect(second.map((c) => c.vehicleId)).not.toContain('c');

    await unsubscribe();
    const redis = testRedis(testConfig());
    try {
      const channels = [0, 1, 2].map((p) => shardKeys(prefix, p).channel);
      const counts = (await redis.call('PUBSUB', 'NUMSUB', ...channels)) as (string | number)[];
      expect(counts.filter((_, i) => i % 2 === 1).map(Number)).toEqual([0, 0, 0]);
    } finally {
      redis.disconnect();
    }
  });
});

describe('redis latest-state table: Redis unavailable', () => {
  it('rejects with a retriable SinkError quickly when nothing listens', async () => {
    const port = await freePort();
    const table = openTable({ url: `redis://127.0.0.1:${port}`, maxReconnectDelayMs: 100 });
    const started = Date.now();
    const error = await table.upsert([rec('v', T0)]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SinkError);
    expect((error as SinkError).retriable).toBe(true);
    await expect(table.get('v')).rejects.toMatchObject({ retriable: true });
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('fails while Redis is unreachable and recovers by itself when it is back', async () => {
    const config = testConfig();
    const target = new URL(config.redis.url);
    const proxy = await tcpProxy(Number(target.port), target.hostname);
    const table = openTable({ url: `redis://127.0.0.1:${proxy.port}`, maxReconnectDelayMs: 100 });
    try {
      await table.upsert([rec('v', T0)]);
      await proxy.stop();
      await expect(table.upsert([rec('v', T0 + 1)])).rejects.toMatchObject({
        name: 'SinkError',
        retriable: true,
      });
      await proxy.start();
      await eventually(
        async () => (await table.upsert([rec('v', T0 + 2)]).catch(() => null)) !== null,
        5000,
        50,
      );
      expect((await table.get('v'))?.ts).toBe(T0 + 2);
      await table.clear();
    } finally {
      await proxy.stop();
    }
  });
});

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A TCP forwarder to the shared Redis that the test can take down and bring back on the same port. */
async function tcpProxy(targetPort: number, targetHost: string) {
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  let port = 0;
  const start = async () => {
    server = net.createServer((client) => {
      const upstream = net.connect(targetPort, targetHost);
      sockets.add(client).add(upstream);
      client.pipe(upstream).pipe(client);
      const close = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', close).on('close', close);
      upstream.on('error', close).on('close', close);
    });
    await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
  };
  const stop = async () => {
    for (const s of sockets) s.destroy();
    sockets.clear();
    if (server?.listening) await new Promise((resolve) => server!.close(resolve));
  };
  await start();
  return {
    get port() {
      return port;
    },
    start,
    stop,
  };
}
