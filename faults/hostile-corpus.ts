import type { Position } from '../src/domain/position.js';

/**
 * A Kafka record as an attacker or a broken device would write it, bypassing the publisher. The
 * corpus is hand-written (one case per known way to be wrong); `fuzz.ts` generates more.
 */
export interface HostileRecord {
  name: string;
  key: Buffer | null;
  value: Buffer | null;
  headers?: Record<string, Buffer | string>;
  /** What the processor must do: dead-letter it with a reason, or process it like any position. */
  expect: 'dead-letter' | 'valid';
  /** Where the fault is when not in the value: such a record's value alone is a valid position. */
  fault?: 'key' | 'header';
}

/** A valid position a minute old: the base the bad ones are made from. */
export function validPosition(vehicleId: string, now: number): Position {
  return { vehicleId, ts: now - 60_000, lat: 48.8566, lon: 2.3522, speed: 31.5, heading: 270, battery: 77 };
}

const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const text = (s: string) => Buffer.from(s, 'utf8');

/** Hand-written bad (and valid-but-nasty) records. Vehicle ids start with `prefix`. */
export function hostileCorpus(prefix: string, now: number): HostileRecord[] {
  const id = `${prefix}h`;
  const base = validPosition(id, now);
  const key = text(id);
  const bad = (name: string, value: Buffer | null, extra: Partial<HostileRecord> = {}): HostileRecord => ({
    name,
    key,
    value,
    expect: 'dead-letter',
    ...extra,
  });
  const badJson = (name: string, patch: Record<string, unknown>) => bad(name, json({ ...base, ...patch }));
  const without = (field: keyof Position) => {
    const copy: Record<string, unknown> = { ...base };
    delete copy[field];
    return bad(`missing ${field}`, json(copy));
  };
  const nasty = (name: string, vehicleId: string): HostileRecord => ({
    name,
    key: text(vehicleId),
    value: json(validPosition(vehicleId, now)),
    expect: 'valid',
  });
  const valid = json(base);

  return [
    // Not a position at all.
    bad('tombstone (null value)', null),
    bad('empty value', Buffer.alloc(0)),
    bad('truncated JSON', valid.subarray(0, valid.length - 7)),
    bad('JavaScript object literal', text(`{vehicleId: '${id}', ts: ${base.ts}, lat: 1, lon: 2}`)),
    bad('trailing garbage', Buffer.concat([valid, text('}}')])),
    bad('plain text', text('hello, is this the fleet?')),
    bad('JSON array', json([base])),
    bad('JSON number', text('42')),
    bad('JSON string', json('{"vehicleId":"x"}')),
    bad('JSON null', text('null')),
    bad('UTF-8 BOM before JSON', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), valid])),
    bad('NaN literal', text(valid.toString().replace(/"lat":[^,]+/, '"lat":NaN'))),
    bad('Infinity literal', text(valid.toString().replace(/"lon":[^,]+/, '"lon":Infinity'))),
    bad('1e999 overflows to Infinity', text(valid.toString().replace(/"speed":[^,]+/, '"speed":1e999'))),
    bad('-1e999 latitude', text(valid.toString().replace(/"lat":[^,]+/, '"lat":-1e999'))),
    bad('binary garbage', Buffer.from([0x00, 0xff, 0x13, 0x37, 0xde, 0xad, 0xbe, 0xef, 0x80, 0x81])),
    bad('invalid UTF-8', Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d])),
    bad('gzip bytes', Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x01])),
    bad('deeply nested arrays', text('['.repeat(4000) + ']'.repeat(4000))),
    // Well-formed JSON, wrong types.
    badJson('latitude as string', { lat: '48.8566' }),
    badJson('timestamp as ISO string', { ts: new Date(base.ts).toISOString() }),
    badJson('vehicle id as number', { vehicleId: 42 }),
    badJson('speed as boolean', { speed: true }),
    badJson('attributes as array', { attributes: [1, 2, 3] }),
    badJson('nested attribute object', { attributes: { engine: { rpm: 900 } } }),
    badJson('null latitude', { lat: null }),
    bad('empty object', json({})),
    without('vehicleId'),
    without('ts'),
    without('lat'),
    without('lon'),
    badJson('unknown field', { altitudeFeet: 100 }),
    bad('__proto__ key', text(valid.toString().replace(/^\{/, '{"__proto__":{"admin":true},'))),
    // Out of range.
    badJson('latitude above 90', { lat: 90.000001 }),
    badJson('latitude below -90', { lat: -91 }),
    badJson('longitude above 180', { lon: 180.5 }),
    badJson('longitude far below -180', { lon: -1000 }),
    badJson('negative speed', { speed: -5 }),
    badJson('supersonic speed', { speed: 5000 }),
    badJson('heading above 360', { heading: 361 }),
    badJson('battery above 100', { battery: 250 }),
    // Absurd timestamps.
    badJson('negative timestamp', { ts: -1 }),
    badJson('epoch zero', { ts: 0 }),
    badJson('timestamp in seconds', { ts: Math.floor(base.ts / 1000) }),
    badJson('fractional timestamp', { ts: base.ts + 0.5 }),
    badJson('year 3000', { ts: Date.UTC(3000, 0, 1) }),
    badJson('one hour ahead', { ts: now + 3_600_000 }),
    badJson('beyond Date range', { ts: 8.64e15 + 1 }),
    badJson('a month old', { ts: now - 30 * 86_400_000 }),
    // Too big.
    badJson('vehicle id of 129 characters', { vehicleId: 'v'.repeat(129) }),
    badJson('vehicle id with space', { vehicleId: 'truck 42' }),
    badJson('vehicle id with NUL', { vehicleId: 'truck\u000042' }),
    badJson('vehicle id with SQL', { vehicleId: "x'; DROP TABLE positions;--" }),
    badJson('vehicle id with path traversal', { vehicleId: '../../etc/passwd' }),
    badJson('33 attributes', {
      attributes: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`a${i}`, i])),
    }),
    badJson('attributes over 4 KiB', {
      attributes: {
        blob: 'x'.repeat(1000),
        b: 'y'.repeat(1000),
        c: 'z'.repeat(1000),
        d: 'w'.repeat(1000),
        e: 'v'.repeat(200),
      },
    }),
    badJson('17 KiB record', { attributes: { pad: 'p'.repeat(1024) }, extra: 'q'.repeat(17 * 1024) }),
    bad(
      '1 MiB record',
      Buffer.concat([text('{"vehicleId":"x","pad":"'), Buffer.alloc(1024 * 1024, 0x61), text('"}')]),
    ),
    // Headers.
    bad('unsupported content-type', valid, {
      headers: { 'content-type': 'application/avro' },
      fault: 'header',
    }),
    bad('binary content-type', valid, {
      headers: { 'content-type': Buffer.from([0xff, 0x00, 0xfe]) },
      fault: 'header',
    }),
    // Keys: a record's key must be the vehicle id it carries (it decides the partition, and so
    // the order of that vehicle's positions).
    bad('missing key', valid, { key: null, fault: 'key' }),
    bad('enormous key', valid, { key: Buffer.alloc(64 * 1024, 0x6b), fault: 'key' }),
    bad('key of another vehicle', valid, { key: text(`${prefix}someone-else`), fault: 'key' }),
    // Valid, but built to trip up key naming, parsing or headers: must be processed normally.
    nasty('id that looks like a Redis key', `${prefix}geo:ids`),
    nasty('id of separators', `${prefix}:::@@@---...`),
    nasty('id with at sign', `${prefix}driver@depot-7`),
    {
      name: 'unexpected headers',
      key,
      value: json({ ...base, ts: base.ts + 1 }),
      headers: Object.fromEntries(
        Array.from({ length: 40 }, (_, i) => [`x-evil-${i}`, `\u0000${'%s'.repeat(i)}`]),
      ),
      expect: 'valid',
    },
    {
      name: 'binary header value',
      key,
      value: json({ ...base, ts: base.ts + 2 }),
      headers: { 'x-trace': Buffer.from([0xff, 0xfe, 0x00, 0x01]) },
      expect: 'valid',
    },
    {
      name: 'explicit JSON content-type',
      key,
      value: json({ ...base, ts: base.ts + 3 }),
      headers: { 'content-type': 'application/json' },
      expect: 'valid',
    },
  ];
}
