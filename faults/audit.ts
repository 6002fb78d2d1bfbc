import type { Config } from '../src/config/config.js';
import { createKafka } from '../src/kafka/client.js';
import { silentLogger } from '../src/logger.js';
import type { LandedRow } from './checker.js';
import { readDeadLetters } from './dead-letters.js';
import type { AckLedger } from './ledger.js';
import { checkRawTable, describeTable, newestPerVehicle, readRawTable } from './redis-table.js';
import { check, type Check } from './scenario.js';
import { checkTopicCoverage, describeCoverage, type CoverageVerdict } from './topic-check.js';
import { readPositionTopic, type TopicRecord } from './topic.js';
import type { WorkloadPlan } from './workload.js';

/** What the end-of-scenario audit read from the topic, and its verdicts. */
export interface Audit {
  records: TopicRecord[];
  coverage: CoverageVerdict;
  checks: Check[];
}

/** Reads the scenario's position topic itself, every partition from its earliest offset to its end. */
export function readTopicOf(config: Readonly<Config>): Promise<TopicRecord[]> {
  const kafka = createKafka(config.kafka, { logger: silentLogger, role: 'faults-audit' });
  return readPositionTopic(kafka, config.topic.name, { maxFutureMs: config.maxFutureSkewMs });
}

/**
 * The Redis table, read raw, against the newest position of every vehicle on the topic: state
 * (position, event time, source record), GEO, last-seen, ids and versions entries.
 */
export async function tableCheck(
  config: Readonly<Config>,
  records: readonly TopicRecord[],
  name = 'Redis table holds the newest position on the topic for every vehicle (raw read: states, GEO, last-seen)',
): Promise<Check> {
  const shards = await readRawTable(
    config.redis.url,
    config.redis.prefix,
    config.topic.partitions,
    config.redis.clusterNodes,
  );
  const verdict = checkRawTable(newestPerVehicle(records), shards);
  return check(name, verdict.ok, describeTable(verdict));
}

/**
 * The end-of-scenario audit, independent of what the driver believes it sent: every record of the
 * topic in the warehouse exactly once (valid) or in the DLQ (invalid), every acknowledged position
 * on the topic, and the Redis table equal to the newest position per vehicle.
 */
export async function auditStores(
  config: Readonly<Config>,
  rows: readonly LandedRow[],
  workload?: { plan: WorkloadPlan; ledger: AckLedger },
): Promise<Audit> {
  const kafka = createKafka(config.kafka, { logger: silentLogger, role: 'faults-audit' });
  const records = await readTopicOf(config);
  const letters = await readDeadLetters(kafka, config.topic.dlq, config.topic.name);
  const coverage = checkTopicCoverage(records, rows, letters, workload);
  return {
    records,
    coverage,
    checks: [
      check(
        'warehouse holds every valid record of the topic once, the DLQ every invalid one',
        coverage.ok,
        describeCoverage(coverage),
      ),
      await tableCheck(config, records),
    ],
  };
}
