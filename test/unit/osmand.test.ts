import { describe, expect, it } from 'vitest';
import { parseDeviceTime, parseOsmAndQuery, parseTraccarJson } from '../../src/ingest/gateway/osmand.js';
import { parseNativeBody } from '../../src/ingest/gateway/native.js';
import { ValidationError } from '../../src/errors.js';

const now = Date.UTC(2026, 5, 1, 12, 0, 0);
const bounds = { now };

function issuesOf(fn: () => unknown): { path: string; message: string }[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return [...(err as ValidationError).issues];
  }
  throw new Error('expected a ValidationError');
}

describe('OsmAnd query parameters', () => {
  it('converts units the way Traccar does: knots to km/h, unix seconds to ms', () => {
    const p = parseOsmAndQuery(
      {
        id: '862462030000001',
        timestamp: String(now / 1000),
        lat: '52.5',
        lon: '13.4',
        speed: '20',
        bearing: '180.5',
        altitude: '34.5',
        accuracy: '6',
        batt: '54.5',
      },
      bounds,
    );
    expect(p).toEqual({
      vehicleId: '862462030000001',
      ts: now,
      lat: 52.5,
      lon: 13.4,
      speed: 20 * 1.852,
      heading: 180.5,
      altitude: 34.5,
      accuracy: 6,
      battery: 54.5,
    });
  });

  it('accepts deviceid, heading, location=lat,lon and puts other parameters in attributes, typed', () => {
    const p = parseOsmAndQuery(
      {
        deviceid: 'dev-1',
        location: '48.1,11.5',
        heading: '90',
        hdop: '1.2',
        charge: 'false',
        driverUniqueId: '0042',
        cell: '262,1,2,3',
      },
      bounds,
    );
    expect(p).toMatchObject({ vehicleId: 'dev-1', lat: 48.1, lon: 11.5, heading: 90 });
    expect(p.attributes).toEqual({ hdop: 1.2, charge: false, driverUniqueId: 42, cell: '262,1,2,3' });
    expect(p.ts).toBe(now);
  });

  it('uses the last value of a repeated parameter', () => {
    expect(parseOsmAndQuery({ id: 'a', lat: ['1', '2'], lon: '3' }, bounds).lat).toBe(2);
  });

  it('reads every device time format', () => {
    expect(parseDeviceTime('1780315200')).toBe(1780315200_000);
    expect(parseDeviceTime('1780315200123')).toBe(1780315200123);
    expect(parseDeviceTime('1780315200.5')).toBe(1780315200500);
    expect(parseDeviceTime('2026-06-01T12:00:00Z')).toBe(now);
    expect(parseDeviceTime('2026-06-01T14:00:00+02:00')).toBe(now);
    expect(parseDeviceTime('2026-06-01 12:00:00')).toBe(now);
    expect(parseDeviceTime('noon')).toBeUndefined();
  });

  it('names each bad or missing parameter', () => {
    expect(issuesOf(() => parseOsmAndQuery({ lat: '1' }, bounds)).map((i) => i.path)).toEqual(['id', 'lon']);
    expect(issuesOf(() => parseOsmAndQuery({ id: 'a', lat: 'x', lon: '1' }, bounds))[0]).toMatchObject({
      path: 'lat',
      message: expect.stringContaining('number'),
    });
    expect(
      issuesOf(() => parseOsmAndQuery({ id: 'a', lat: '1', lon: '1', bearing: '400' }, bounds))[0]!.path,
    ).toBe('bearing');
    expect(issuesOf(() => parseOsmAndQuery({ id: 'a b', lat: '1', lon: '1' }, bounds))[0]!.path).toBe('id');
    expect(issuesOf(() => parseOsmAndQuery({ id: 'nearby', lat: '1', lon: '1' }, bounds))[0]).toMatchObject({
      path: 'id',
      message: expect.stringContaining("'nearby' names the /v1/vehicles/nearby route"),
    });
    expect(
      issuesOf(() => parseOsmAndQuery({ id: 'a', lat: '1', lon: '1', timestamp: '123' }, bounds))[0]!.path,
    ).toBe('timestamp');
  });
});

describe('Traccar Client JSON body', () => {
  const location = (over: Record<string, unknown> = {}) => ({
    timestamp: '2026-06-01T11:59:30.000Z',
    coords: { latitude: 40.1, longitude: -3.7, speed: 10, heading: 45, accuracy: 5, altitude: 650 },
    is_moving: false,
    odometer: 100,
    battery: { level: 0.875, is_charging: false },
    activity: { type: 'still' },
    ...over,
  });

  it('converts m/s to km/h and battery 0..1 to percent', () => {
    const [p] = parseTraccarJson({ device_id: 'phone-1', location: location() }, bounds);
    expect(p).toEqual({
      vehicleId: 'phone-1',
      ts: now - 30_000,
      lat: 40.1,
      lon: -3.7,
      speed: 36,
      heading: 45,
      accuracy: 5,
      altitude: 650,
      battery: 87.5,
      attributes: { motion: false, odometer: 100, activity: 'still' },
    });
  });

  it('drops values the device marks unknown (negative) and reads alarms from extras', () => {
    const [p] = parseTraccarJson(
      {
        device_id: 7,
        location: location({
          coords: { latitude: 1, longitude: 2, speed: -1, heading: -1, accuracy: 3 },
          battery: { level: -1, is_charging: true },
          extras: { alarm: 'sos' },
        }),
      },
      bounds,
    );
    expect(p).toMatchObject({ vehicleId: '7', lat: 1, lon: 2, accuracy: 3 });
    expect(p).not.toHaveProperty('speed');
    expect(p).not.toHaveProperty('heading');
    expect(p).not.toHaveProperty('battery');
    expect(p!.attributes).toMatchObject({ charge: true, alarm: 'sos' });
  });

  it('accepts an array of locations', () => {
    const ps = parseTraccarJson(
      { device_id: 'x', location: [location(), location({ timestamp: '2026-06-01T11:59:40Z' })] },
      bounds,
    );
    expect(ps.map((p) => p.ts)).toEqual([now - 30_000, now - 20_000]);
  });

  it('names the JSON field that is wrong', () => {
    expect(issuesOf(() => parseTraccarJson({ location: location() }, bounds))[0]!.path).toBe('device_id');
    expect(
      issuesOf(() =>
        parseTraccarJson({ device_id: 'x', location: { timestamp: 'x', coords: {} } }, bounds),
      )[0]!.path,
    ).toBe('location.timestamp');
    expect(
      issuesOf(() =>
        parseTraccarJson(
          { device_id: 'x', location: location({ coords: { latitude: 95, longitude: 1 } }) },
          bounds,
        ),
      )[0]!.path,
    ).toBe('location.coords.latitude');
    expect(
      issuesOf(() => parseTraccarJson({ device_id: 'x', location: [location(), { coords: 1 }] }, bounds))[0]!
        .path,
    ).toBe('location[1].coords');
    expect(issuesOf(() => parseTraccarJson('nope', bounds))[0]!.message).toMatch(/JSON object/);
  });
});

describe('native POST /v1/positions body', () => {
  it('validates each item on its own', () => {
    const result = parseNativeBody(
      [
        { vehicleId: 'a', ts: now, lat: 1, lon: 2 },
        { vehicleId: 'b', ts: now, lat: 100, lon: 2 },
        { vehicleId: 'c', ts: now - 30 * 86_400_000, lat: 1, lon: 2 },
      ],
      bounds,
    );
    expect(result.accepted.map((p) => p.vehicleId)).toEqual(['a']);
    expect(result.rejected.map((r) => [r.index, r.issues[0]!.path])).toEqual([
      [1, 'lat'],
      [2, 'ts'],
    ]);
  });

  it('refuses bodies that are not positions at all', () => {
    expect(() => parseNativeBody(null, bounds)).toThrow(ValidationError);
    expect(() => parseNativeBody([], bounds)).toThrow(/empty/);
    expect(() => parseNativeBody('x', bounds)).toThrow(ValidationError);
  });
});
