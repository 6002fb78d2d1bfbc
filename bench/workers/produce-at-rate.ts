/**
 * Bench worker: publishes bench positions through the project's publisher (acks=all, idempotent),
 * either at a fixed rate with `ts` = now (latency runs) or as fast as it can (throughput, preload).
 */
import { compileConfig, readRawConfig, type RawConfig } from '../../src/config/index.js';
import { jsonCodec } from '../../src/domain/codec.js';
import type { Position } from '../../src/domain/position.js';
import { createLogger } from '../../src/logger.js';
import { createPublisher, type PositionPublisher } from '../../src/ingest/publisher.js';
import { benchPosition, seededRandom } from '../fleet-positions.js';
import { serveRequests } from '../worker-ipc.js';

export interface RateRun {
  /** msg/s; 0 = as fast as the publisher accepts (bounded by `maxQueued`). */
  rate: number;
  durationMs: number;
  /** Stop after this many positions (max-rate runs). */
  records?: number;
  vehicles: number;
  /** Event time of positions = now - this (replays of the past); 0 for live runs. */
  ageMs?: number;
}

export interface RateResult {
  sent: number;
  acked: number;
  failed: number;
  bytes: number;
  /** Wall time during which positions were generated (the offered-load window). */
  generateMs: number;
  /** Wall time from first publish to last acknowledgement. */
  ms: number;
  /** Event-time window of the positions, epoch ms. */
  from: number;
  to: number;
}

let publisher: PositionPublisher | undefined;
let cursor = 0;
const random = seededRandom(42);
const MAX_UNACKED = 50_000;

async function run(body: { config: RawConfig; run: RateRun }): Promise<RateResult> {
  if (!process.env.KAFKA_BROKERS)
    throw new Error('bench worker started without KAFKA_BROKERS (the bench broker)');
  // process.env is the bench's child env (its own broker and Redis); the body adds the topic.
  const config = compileConfig(readRawConfig(process.env, body.config), {});
  if (!publisher) {
    publisher = createPublisher(config, { logger: createLogger({ level: 'warn', destination: 2 }) });
    await publisher.connect();
  }
  const p = publisher;
  const { rate, durationMs, vehicles } = body.run;
  const limit = body.run.records ?? Number.POSITIVE_INFINITY;
  const ageMs = body.run.ageMs ?? 0;
  const result: RateResult = {
    sent: 0,
    acked: 0,
    failed: 0,
    bytes: 0,
    generateMs: 0,
    ms: 0,
    from: Date.now(),
    to: 0,
  };
  const pending = new Set<Promise<void>>();
  const started = performance.now();
  const publishNow = (count: number) => {
    const ts = Date.now() - ageMs;
    const batch: Position[] = [];
    for (let i = 0; i < count; i++) {
      batch.push(benchPosition(cursor, ts, random));
      cursor = (cursor + 1) % vehicles;
    }
    result.sent += count;
    result.to = ts;
    // Bytes from a 1-in-16 sample: encoding everything twice would slow the producer we measure.
    for (let i = 0; i < batch.length; i += 16)
      result.bytes += jsonCodec.encode(batch[i]!).length * Math.min(16, batch.length - i);
    const promise = p.publish(batch).then(
      () => void (result.acked += count),
      () => void (result.failed += count),
    );
    pending.add(promise);
    void promise.finally(() => pending.delete(promise));
  };
  await new Promise<void>((resolve) => {
    const tick = () => {
      const elapsed = performance.now() - started;
      if (elapsed >= durationMs || result.sent >= limit) {
        clearInterval(timer);
        resolve();
        return;
      }
      if (rate > 0) {
        const due = Math.min(limit, Math.floor((elapsed / 1000) * rate)) - result.sent;
        if (due > 0) publishNow(due);
      } else {
        // As fast as acknowledgements allow: keep a bounded amount unacknowledged.
        const room = Math.min(
          limit - result.sent,
          MAX_UNACKED - (result.sent - result.acked - result.failed),
        );
        for (let left = room; left > 0; left -= 500) publishNow(Math.min(500, left));
      }
    };
    const timer = setInterval(tick, rate > 0 ? 2 : 1);
  });
  result.generateMs = Math.round(performance.now() - started);
  while (pending.size > 0) await Promise.all([...pending]);
  result.ms = Math.round(performance.now() - started);
  if (ageMs > 0) result.from -= ageMs;
  return result;
}

serveRequests({
  run: run as (body: never) => Promise<unknown>,
  close: async () => {
    await publisher?.close();
  },
});
