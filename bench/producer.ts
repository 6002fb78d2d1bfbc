import type { Config } from '../src/config/index.js';
import { endOffsetTotal } from './offsets.js';
import { childEnv, createPositionTopic, type BenchServices } from './services.js';
import { perSecond } from './stats.js';
import type { RateResult } from './workers/produce-at-rate.js';
import { WorkerHandle } from './worker-ipc.js';

export interface ProducerResult {
  /** What produced: the project's publisher (acks=all, idempotent, key = vehicle id). */
  tool: string;
  records: number;
  recordsPerS: number;
  mbPerS: number;
  /** Average encoded position (record value) size, bytes. */
  avgRecordBytes: number;
  failed: number;
}

/** The publisher's run, and what its topic holds afterwards (end offsets: `records` when nothing was lost). */
export interface PublisherRun extends ProducerResult {
  inTopic: number;
}

/**
 * Producer throughput at max rate, which also pre-loads the replay topic: `records` positions of
 * `vehicles` vehicles through the project's PositionPublisher (what `fleet simulate` and the
 * gateway publish with), timed from the first publish to the last acknowledgement.
 */
export async function producerThroughput(
  services: BenchServices,
  config: Readonly<Config>,
  options: { records: number; vehicles: number; client?: 'kafkajs' | 'platformatic' },
): Promise<PublisherRun> {
  const client = options.client ?? config.publisherClient;
  await createPositionTopic(services, config);
  const worker = WorkerHandle.fork('produce-at-rate', childEnv(services));
  let result: RateResult;
  try {
    result = await worker.request<RateResult>('run', {
      config: { TOPIC: config.topic.name, PUBLISHER_KAFKA_CLIENT: client },
      run: {
        rate: 0,
        durationMs: 60 * 60_000,
        records: options.records,
        vehicles: options.vehicles,
        // Event times lie in the recent past, so live positions later always move vehicles forward.
        ageMs: 3_600_000,
      },
    });
  } finally {
    await worker.close();
  }
  const inTopic = await endOffsetTotal(services.admin, config.topic.name);
  if (inTopic !== options.records || result.failed > 0) {
    services.logger.warn(
      { inTopic, expected: options.records, failed: result.failed },
      'producer did not write everything',
    );
  }
  return {
    tool: `PositionPublisher (acks=all, idempotent, gzip${client === 'kafkajs' ? '' : `, ${client} client`})`,
    records: result.acked,
    recordsPerS: perSecond(result.acked, result.ms),
    mbPerS: Math.round((result.bytes / 1024 / 1024 / (result.ms / 1000)) * 100) / 100,
    avgRecordBytes: Math.round(result.bytes / Math.max(1, result.sent)),
    failed: result.failed,
    inTopic,
  };
}
