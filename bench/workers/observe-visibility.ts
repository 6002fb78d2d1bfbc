/**
 * Bench worker: subscribes to the latest-state table's change feed (published by the upsert, after
 * the write) and records, per change, now − event time: how long a position took to become
 * visible in Redis. Only changes whose event time lies in the current window count.
 */
import {
  createRedisStateTable,
  type RedisStateTable,
  type RedisStateTableOptions,
} from '../../src/state/index.js';
import { LatencyRecorder, type LatencySummary } from '../stats.js';
import { serveRequests } from '../worker-ipc.js';

let table: RedisStateTable | undefined;
let unsubscribe: (() => Promise<void>) | undefined;
let window = { from: Number.POSITIVE_INFINITY, to: Number.NEGATIVE_INFINITY };
let recorder = new LatencyRecorder();
let lastTs = 0;

serveRequests({
  start: async (body: RedisStateTableOptions) => {
    table = createRedisStateTable({ ...body, connectionName: 'bench-observer' });
    unsubscribe = await table.subscribe((change) => {
      const now = Date.now();
      if (change.ts > lastTs) lastTs = change.ts;
      if (change.ts >= window.from && change.ts <= window.to) recorder.record(now - change.ts);
    });
  },
  window: async (body: { from: number; to: number }) => {
    window = body;
    recorder = new LatencyRecorder();
  },
  /** Newest event time seen so far (to know when the pipeline caught up). */
  newest: async () => lastTs,
  collect: async (): Promise<LatencySummary> => recorder.summary(),
  close: async () => {
    await unsubscribe?.();
    await table?.close();
  },
});
