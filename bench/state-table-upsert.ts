/**
 * Micro-benchmark of the Redis latest-state table (not a test):
 *   REDIS_URL=redis://127.0.0.1:39691 [TOPIC_PARTITIONS=3] npx tsx bench/state-table-upsert.ts [records] [vehicles] [batch] [chunk]
 * Upserts `records` positions (default 200k) for `vehicles` vehicles (default 50k) in batches of
 * `batch` (default 10k, the processor's BATCH_MAX_RECORDS), each vehicle moving forward in time;
 * then replays them all (every record ignored), then measures get/nearby latency. Uses its own
 * key prefix and clears it afterwards.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { Registry } from 'prom-client';
import type { PositionRecord } from '../src/domain/records.js';
import { createRedisStateTable } from '../src/state/index.js';

const [records = 200_000, vehicles = 50_000, batchSize = 10_000, chunkSize = 1000] = process.argv
  .slice(2)
  .map(Number);
const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `bench:${randomBytes(4).toString('hex')}:`;
// Shards = the topic's partitions (TOPIC_PARTITIONS, default 3); REDIS_CLUSTER_NODES: a cluster.
const partitions = Number(process.env.TOPIC_PARTITIONS ?? 3);
const clusterNodes = (process.env.REDIS_CLUSTER_NODES ?? '').split(',').filter(Boolean);
const table = createRedisStateTable({
  url,
  clusterNodes,
  prefix,
  partitions,
  registry: new Registry(),
  chunkSize,
});
const t0 = Date.now() - 3_600_000;

const all: PositionRecord[] = [];
for (let i = 0; i < records; i++) {
  const v = i % vehicles;
  const round = Math.floor(i / vehicles);
  all.push({
    topic: 'vehicle_positions',
    topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
    partition: v % 3,
    offset: String(i),
    kafkaTs: t0 + round * 1000,
    bytes: 180,
    position: {
      vehicleId: `veh-${String(v).padStart(6, '0')}`,
      ts: t0 + round * 1000 + (v % 997),
      lat: 48 + (v % 1000) / 500 + round * 1e-4,
      lon: 2 + Math.floor(v / 1000) / 25 + round * 1e-4,
      speed: (v * 7) % 120,
      heading: (v * 13) % 360,
      battery: 50 + (v % 50),
      ...(v % 10 === 0 ? { attributes: { driver: `d${v}`, door: 'closed' } } : {}),
    },
  });
}

async function pass(label: string, withSubscriber: boolean) {
  const unsubscribe = withSubscriber ? await table.subscribe(() => undefined) : undefined;
  let applied = 0;
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < all.length; i += batchSize) {
    applied += (await table.upsert(all.slice(i, i + batchSize))).applied;
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await unsubscribe?.();
  const perRecord = (micros: number) => (micros / all.length).toFixed(1);
  console.log(
    `${label}: ${all.length} records in ${seconds.toFixed(2)} s = ${Math.round(all.length / seconds)} records/s ` +
      `(applied ${applied}; node CPU ${perRecord(cpu.user + cpu.system)} µs/record)`,
  );
}

async function latency(label: string, fn: (i: number) => Promise<unknown>, n = 5000) {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    await fn(i);
    times.push(performance.now() - s);
  }
  times.sort((a, b) => a - b);
  const q = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))]!.toFixed(3);
  console.log(`${label}: p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${q(1)} ms`);
}

try {
  await table.ping();
  console.log(`redis ${url}, ${records} records, ${vehicles} vehicles, batches of ${batchSize}`);
  await pass('upsert (no subscriber)', false);
  await table.clear();
  await pass('upsert (with a live subscriber)', true);
  await pass('replay (all ignored)', false);
  await latency('get', (i) => table.get(`veh-${String((i * 7919) % vehicles).padStart(6, '0')}`));
  await latency(
    'nearby 1 km, 50',
    (i) => table.nearby({ lat: 48 + (i % 100) / 50, lon: 2 + (i % 40) / 25, radiusM: 1000 }),
    2000,
  );
  await latency('list page of 100', () => table.list({ limit: 100 }), 500);
  console.log(
    `load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} on ${os.cpus().length} CPUs`,
  );
} finally {
  await table.clear();
  await table.close();
}
