import type { HostileRecord } from './hostile-corpus.js';
import { validPosition } from './hostile-corpus.js';

/** mulberry32: a small seeded generator, so a failing fuzz run can be replayed from its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Random = () => number;
const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const between = (random: Random, lo: number, hi: number) => lo + random() * (hi - lo);

/**
 * Values that break each field whatever the rest of the record says. Every mutation below makes a
 * record invalid by construction (the unit test checks the codec agrees), so the suite knows which
 * records must reach the dead-letter queue without asking the code under test.
 */
const badValues: Record<string, (random: Random, now: number) => unknown> = {
  vehicleId: (r) =>
    pick(r, [
      '',
      'v'.repeat(129 + Math.floor(r() * 500)),
      `bad ${Math.floor(r() * 1e6)}`,
      `ü${Math.floor(r() * 1e6)}`,
      Math.floor(r() * 1e6),
      null,
      ['v1'],
    ]),
  ts: (r, now) =>
    pick(r, [
      -Math.floor(r() * 1e12) - 1,
      now + 3_600_000 + Math.floor(r() * 1e12),
      now - 8 * 86_400_000 - Math.floor(r() * 1e12),
      now - 60_000 + 0.25 + Math.floor(r() * 1000),
      String(now),
      null,
    ]),
  lat: (r) =>
    pick(r, [between(r, 90.0001, 1e6), -between(r, 90.0001, 1e6), String(between(r, -90, 90)), null, true]),
  lon: (r) =>
    pick(r, [between(r, 180.0001, 1e9), -between(r, 180.0001, 1e9), String(between(r, -180, 180)), null, {}]),
  speed: (r) => pick(r, [-between(r, 0.001, 1e6), between(r, 1500.001, 1e9), 'fast', false]),
  heading: (r) => pick(r, [-between(r, 0.001, 720), between(r, 360.001, 1e4), 'north']),
  battery: (r) => pick(r, [-between(r, 0.001, 100), between(r, 100.001, 1e4), '99%']),
};

type Mutation = (random: Random, position: Record<string, unknown>, now: number) => Buffer;

const json = (v: unknown) => Buffer.from(JSON.stringify(v));

const mutations: Record<string, Mutation> = {
  'bad field value': (r, p, now) => {
    const field = pick(r, Object.keys(badValues));
    return json({ ...p, [field]: badValues[field]!(r, now) });
  },
  'missing required field': (r, p) => {
    const copy = { ...p };
    delete copy[pick(r, ['vehicleId', 'ts', 'lat', 'lon'])];
    return json(copy);
  },
  'unknown field': (r, p) => json({ ...p, [`x${Math.floor(r() * 1e6)}`]: r() }),
  'truncated JSON': (r, p) => {
    const text = json(p);
    return text.subarray(0, 1 + Math.floor(r() * (text.length - 1)));
  },
  'non-finite number literal': (r, p) => {
    const field = pick(r, ['lat', 'lon', 'speed', 'ts']);
    const literal = pick(r, ['NaN', 'Infinity', '-Infinity', '1e999', '-1e999']);
    return Buffer.from(JSON.stringify(p).replace(new RegExp(`"${field}":[^,}]+`), `"${field}":${literal}`));
  },
  'random bytes': (r) => {
    const bytes = Buffer.alloc(1 + Math.floor(r() * 2048));
    for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(r() * 256);
    // '{' would start an object; anything else can never decode to a position.
    if (bytes[0] === 0x7b) bytes[0] = 0x00;
    return bytes;
  },
  'wrong top-level type': (r, p) =>
    json(pick(r, [[p], Object.values(p), JSON.stringify(p), Math.floor(r() * 1e6), true, null])),
  oversized: (r, p) =>
    json({ ...p, attributes: { pad: 'x'.repeat(1000) }, pad: 'y'.repeat(17_000 + Math.floor(r() * 50_000)) }),
  'too many attributes': (r, p) =>
    json({
      ...p,
      attributes: Object.fromEntries(
        Array.from({ length: 33 + Math.floor(r() * 50) }, (_, i) => [`k${i}`, i]),
      ),
    }),
};

export const fuzzMutations = Object.keys(mutations);

/**
 * `count` records that each break the position contract in a random way, keyed by a valid vehicle
 * id (so the key is never the reason). Deterministic for a given seed.
 */
export function fuzzRecords(options: {
  seed: number;
  count: number;
  prefix: string;
  now: number;
}): HostileRecord[] {
  const random = seededRandom(options.seed);
  const out: HostileRecord[] = [];
  for (let i = 0; i < options.count; i++) {
    const id = `${options.prefix}f${i}`;
    const name = pick(random, fuzzMutations);
    const base = validPosition(id, options.now) as unknown as Record<string, unknown>;
    out.push({
      name: `fuzz #${i} (seed ${options.seed}): ${name}`,
      key: Buffer.from(id),
      value: mutations[name]!(random, base, options.now),
      expect: 'dead-letter',
    });
  }
  return out;
}
