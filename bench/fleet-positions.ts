import { jsonCodec } from '../src/domain/codec.js';
import type { Position } from '../src/domain/position.js';

/** The bench's vehicle ids, formatted like the simulator's (`fleet simulate --prefix bench-`): `bench-00042`. */
export function benchVehicleId(index: number): string {
  return `bench-${String(index).padStart(5, '0')}`;
}

/** A deterministic pseudo-random generator (mulberry32): runs are reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Centres the bench fleet drives around. */
export const BENCH_CITIES = [
  [52.52, 13.405],
  [48.8566, 2.3522],
  [51.5072, -0.1276],
  [40.4168, -3.7038],
  [41.9028, 12.4964],
] as const;

/** How far (s) a vehicle drives along its heading before its track starts again at home. */
const TRACK_S = 1800;
const M_PER_DEG_LAT = 111_320;

/**
 * A position shaped like the simulator's (every optional field, the same two attributes, so the
 * same encoded size), `ts` given by the caller. Vehicles live around a few cities, so `nearby`
 * finds neighbours, and they move like vehicles: each one drives from its own home point along its
 * own heading at 5–20 m/s, its place a function of `ts` (`ts` mod 30 min), so consecutive positions
 * of a vehicle are metres apart, not random points of the city (which made every GEO update a
 * re-insert that real fleets do not cause).
 */
export function benchPosition(vehicle: number, ts: number, random: () => number): Position {
  const city = BENCH_CITIES[vehicle % BENCH_CITIES.length] ?? BENCH_CITIES[0];
  const spread = 0.25;
  const own = seededRandom(vehicle + 1);
  const homeLat = city[0] + (own() - 0.5) * spread;
  const homeLon = city[1] + (own() - 0.5) * spread;
  const bearing = own() * 2 * Math.PI;
  const metres = (5 + own() * 15) * ((ts / 1000) % TRACK_S);
  const lat = homeLat + (Math.cos(bearing) * metres) / M_PER_DEG_LAT;
  const lon = homeLon + (Math.sin(bearing) * metres) / (M_PER_DEG_LAT * Math.cos((homeLat * Math.PI) / 180));
  return {
    vehicleId: benchVehicleId(vehicle),
    ts,
    lat: Math.round(lat * 1e6) / 1e6,
    lon: Math.round(lon * 1e6) / 1e6,
    speed: Math.round(random() * 1200) / 10,
    heading: Math.round(random() * 3600) / 10,
    altitude: Math.round(random() * 500),
    accuracy: Math.round(random() * 200) / 10,
    battery: Math.round(random() * 1000) / 10,
    attributes: { odometer: Math.round(random() * 200_000), motion: random() > 0.3 },
  };
}

/** Average encoded size (bytes) of bench positions, from a sample. */
export function averageEncodedSize(sample = 1000): number {
  const random = seededRandom(1);
  let bytes = 0;
  for (let i = 0; i < sample; i++) bytes += jsonCodec.encode(benchPosition(i, Date.now(), random)).length;
  return Math.round(bytes / sample);
}

/**
 * The `ts` of a JSON-encoded position (`"ts":<epoch ms>`) read from its bytes without decoding the
 * rest (the bare Kafka consumer of the latency runs); NaN when absent.
 */
export function eventTimeOf(value: Buffer | null): number {
  if (!value) return Number.NaN;
  const text = value.toString('latin1');
  const at = text.indexOf('"ts":');
  if (at < 0) return Number.NaN;
  return Number.parseInt(text.slice(at + 5, at + 25), 10);
}
