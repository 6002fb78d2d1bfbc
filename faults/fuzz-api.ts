import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import type { z } from 'zod';
import { createApiServer } from '../src/api/server.js';
import {
  HistoryQuery,
  ListQuery,
  NearbyQuery,
  StreamQuery,
  SummaryQuery,
  VehicleParams,
} from '../src/api/schemas.js';
import { compileConfig, readRawConfig } from '../src/config/index.js';
import type { Device, DeviceStore } from '../src/domain/device.js';
import { FakeStateTable, FakeWarehouse, vehicle } from '../test/support/api-fakes.js';
import { hostileTextArb, onlyOurErrors, vehicleIdArb, type FuzzProperty } from './fuzz-arbitraries.js';

/**
 * Properties of the query API: any query string on any read route is answered 2xx or 4xx, never
 * 5xx (fastify inject against our own fakes of the table and the warehouse), and every query schema
 * of src/api/schemas.ts turns any input into a value or issues without throwing.
 */

const NOW = Date.UTC(2026, 5, 1, 12);

/** The parameters the routes know, plus look-alikes, so generated queries often reach validation. */
const paramNameArb = fc.oneof(
  fc.constantFrom('limit', 'cursor', 'bbox', 'max_age_s', 'lat', 'lon', 'radius_m', 'from', 'to'),
  fc.constantFrom('min_trip_m', 'min_stop_s', 'moving_kmh', 'vehicle', 'token', 'api_key', '__proto__'),
  fc.string({ maxLength: 10 }),
);
const paramValueArb = fc.oneof(
  hostileTextArb,
  fc.array(fc.double({ min: -200, max: 200 }).map(String), { maxLength: 5 }).map((a) => a.join(',')),
  fc.integer({ min: NOW - 3 * 86_400_000, max: NOW + 86_400_000 }).map(String),
);
/** Pairs, so a name may repeat (`?lat=1&lat=2` parses to an array). */
const queryArb = fc
  .array(fc.tuple(paramNameArb, paramValueArb), { maxLength: 6 })
  .map((pairs) => pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&'));
/** Unencoded printable text too: bad escapes (`%zz`), `+`, `;`, `=`. */
const rawQueryArb = fc.stringMatching(/^[\x21-\x22\x24-\x7e]{0,60}$/);

const idSegmentArb = fc.oneof(vehicleIdArb, fc.string({ maxLength: 20 })).map(encodeURIComponent);
const pathArb = fc.oneof(
  fc.constantFrom('/v1/vehicles', '/v1/vehicles/nearby', '/v1/vehicles/v1', '/v1/devices'),
  idSegmentArb.map((id) => `/v1/vehicles/${id}`),
  idSegmentArb.map((id) => `/v1/vehicles/${id}/history`),
  idSegmentArb.map((id) => `/v1/vehicles/${id}/summary`),
  idSegmentArb.map((id) => `/v1/devices/${id}`),
);

class MemoryDevices implements DeviceStore {
  private readonly devices = new Map<string, Device>();
  async get(id: string) {
    return this.devices.get(id);
  }
  async list() {
    return [...this.devices.values()];
  }
  async put(device: Device) {
    this.devices.set(device.id, device);
  }
  async remove(id: string) {
    return this.devices.delete(id);
  }
}

/** The query API on fakes of our own ports, with a few vehicles and auth off. */
export async function fuzzTarget(): Promise<FastifyInstance> {
  const table = new FakeStateTable();
  table.put(vehicle('v1', 48.85, 2.35, NOW - 1000), vehicle('v2', 51.5, -0.12, NOW - 120_000));
  return createApiServer({
    config: compileConfig(readRawConfig({}, { API_AUTH: 'off' }), {}),
    table,
    warehouse: new FakeWarehouse(),
    devices: new MemoryDevices(),
    registry: new Registry(),
    now: () => NOW,
  });
}

const schemas: Record<string, z.ZodType> = {
  ListQuery,
  NearbyQuery,
  HistoryQuery,
  SummaryQuery,
  StreamQuery,
  VehicleParams,
};

export const apiProperties: readonly FuzzProperty[] = [
  {
    name: 'API: any query string on any read route is 2xx/4xx, never 5xx',
    async check(params) {
      const app = await fuzzTarget();
      try {
        await fc.assert(
          fc.asyncProperty(pathArb, fc.oneof(queryArb, rawQueryArb), async (path, query) => {
            const res = await app.inject({ method: 'GET', url: `${path}?${query}` });
            if (res.statusCode >= 500) throw new Error(`${res.statusCode} for ${path}?${query}: ${res.body}`);
          }),
          params,
        );
      } finally {
        await app.close();
      }
    },
  },
  {
    name: 'API schemas: any parsed query gives a value or issues, never a throw',
    async check(params) {
      const valueArb = fc.oneof(paramValueArb, fc.array(paramValueArb, { maxLength: 3 }));
      fc.assert(
        fc.property(
          fc.constantFrom(...Object.keys(schemas)),
          fc.dictionary(fc.oneof(paramNameArb, fc.constant('id')), valueArb, { maxKeys: 6 }),
          (name, input) => {
            onlyOurErrors(() => schemas[name]!.safeParse(input));
          },
        ),
        params,
      );
    },
  },
];
