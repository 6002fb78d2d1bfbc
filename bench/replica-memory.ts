/**
 * Heap held by the API's in-memory state replica per vehicle (`src/state/replicated-state-table.ts`),
 * measured with the real class, loaded by a scan of `--vehicles` bench-shaped states (the JSON the
 * upsert script stores, parsed as the Redis feed parses it), then every vehicle changed once through
 * the feed. Writes `bench/results/<date>-replica-memory.json`.
 *
 *   node --expose-gc --import tsx bench/replica-memory.ts [--vehicles 250000]
 */
import { writeFileSync } from 'node:fs';
import { Registry } from 'prom-client';
import type { VehicleState } from '../src/state/latest-state-table.js';
import { ReplicatedStateTable } from '../src/state/replicated-state-table.js';
import type { StateFeed, StateFeedListener } from '../src/state/state-feed.js';
import { stateJson } from '../src/state/upsert-script.js';
import { benchPosition, seededRandom } from './fleet-positions.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const at = process.argv.indexOf('--vehicles');
const vehicles = at > 0 ? Number(process.argv[at + 1]) : 250_000;
const random = seededRandom(1);
const t0 = Date.now() - 3_600_000;

/** One chunk of states as the feed / HSCAN hands them over: parsed from the stored JSON. */
function states(from: number, to: number, ts: number): VehicleState[] {
  const json: string[] = [];
  for (let v = from; v < to; v++) {
    const record = { position: benchPosition(v, ts + v, random), partition: v % 3, offset: String(1e6 + v) };
    json.push(stateJson(record as never, Date.now()));
  }
  return JSON.parse(`[${json.join(',')}]`) as VehicleState[];
}

let listener: StateFeedListener | undefined;
const feed: StateFeed = {
  follow: async (l) => void (listener = l),
  resubscribe: async () => undefined,
  scan: async (onBatch) => {
    for (let v = 0; v < vehicles; v += 1000) onBatch(states(v, Math.min(v + 1000, vehicles), t0));
  },
  close: async () => undefined,
};
const table = {} as never; // never read: every get below is answered from memory
gc();
const before = process.memoryUsage().heapUsed;
const replica = new ReplicatedStateTable({ table, feed, maxVehicles: vehicles, registry: new Registry() });
await replica.start();
await replica.synced();
gc();
const loaded = process.memoryUsage().heapUsed;
for (let v = 0; v < vehicles; v += 1000)
  for (const s of states(v, Math.min(v + 1000, vehicles), t0 + 60_000)) listener!.change(s);
gc();
const changed = process.memoryUsage().heapUsed;
if (replica.phase !== 'ready' || replica.size !== vehicles)
  throw new Error(`replica ${replica.phase}, ${replica.size} vehicles`);
const sample = JSON.stringify(await replica.get('bench-00001'));
const result = {
  date: new Date().toISOString(),
  node: process.version,
  vehicles,
  state_json_bytes: sample.length,
  heap_bytes_per_vehicle_after_scan: Math.round((loaded - before) / vehicles),
  heap_bytes_per_vehicle_after_changes: Math.round((changed - before) / vehicles),
  heap_mb_after_changes: Math.round((changed - before) / 1e5) / 10,
};
console.log(result);
const file = `bench/results/${result.date.slice(0, 10)}-replica-memory.json`;
writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
console.log(`written ${file}`);
