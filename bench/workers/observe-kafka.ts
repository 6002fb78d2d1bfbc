/**
 * Bench worker: the bare Kafka path's end (publisher → broker → this consumer). A kafkajs consumer
 * with the processor's fetch settings, in a group of its own, that only reads each position's event
 * time and records now − ts: no decoding beyond that, no commits, no sinks. Our produce → Redis
 * latency is shown as a ratio to it, which moves far less between machines than either absolute.
 */
import type { Consumer } from 'kafkajs';
import { compileConfig, readRawConfig, type RawConfig } from '../../src/config/index.js';
import { createKafka } from '../../src/kafka/client.js';
import { createLogger } from '../../src/logger.js';
import { eventTimeOf } from '../fleet-positions.js';
import { LatencyRecorder, type LatencySummary } from '../stats.js';
import { serveRequests } from '../worker-ipc.js';

let consumer: Consumer | undefined;
let window = { from: Number.POSITIVE_INFINITY, to: Number.NEGATIVE_INFINITY };
let recorder = new LatencyRecorder();
let lastTs = 0;

serveRequests({
  start: async (body: { config: RawConfig }) => {
    const config = compileConfig(readRawConfig(process.env, body.config), {});
    const logger = createLogger({ level: 'warn', destination: 2 });
    const kafka = createKafka(config.kafka, { logger, role: 'bench-bare' });
    const c = kafka.consumer({
      groupId: `bench-bare-${Date.now()}`,
      minBytes: config.consumer.fetchMinBytes,
      maxWaitTimeInMs: config.consumer.fetchMaxWaitMs,
      maxBytesPerPartition: config.consumer.fetchMaxBytesPerPartition,
    });
    consumer = c;
    const joined = new Promise<void>((resolve) => c.on(c.events.GROUP_JOIN, () => resolve()));
    await c.connect();
    await c.subscribe({ topic: config.topic.name, fromBeginning: false });
    await c.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const now = Date.now();
        for (const m of batch.messages) {
          const ts = eventTimeOf(m.value);
          if (!(ts > 0)) continue;
          if (ts > lastTs) lastTs = ts;
          if (ts >= window.from && ts <= window.to) recorder.record(now - ts);
        }
      },
    });
    await joined;
  },
  window: async (body: { from: number; to: number }) => {
    window = body;
    recorder = new LatencyRecorder();
  },
  newest: async () => lastTs,
  collect: async (): Promise<LatencySummary> => recorder.summary(),
  close: async () => {
    await consumer?.disconnect();
  },
});
