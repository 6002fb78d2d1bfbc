import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { ServiceError } from '../src/errors.js';
import { runCaptured } from './child-process.js';
import type { BenchServices } from './services.js';

/** Kafka's own ProducerPerformance result (its final summary line). */
export interface ProducerPerfResult {
  records: number;
  recordsPerS: number;
  mbPerS: number;
  avgLatencyMs: number;
  p99LatencyMs: number;
  recordSize: number;
}

/** Kafka's own ConsumerPerformance result. */
export interface ConsumerPerfResult {
  records: number;
  /** Over fetch time only (group join excluded): the ceiling we compare with. */
  recordsPerS: number;
  mbPerS: number;
  /** Over the whole run, group join included. */
  recordsPerSWithJoin: number;
  rebalanceMs: number;
  fetchMs: number;
}

const LOG4J2 = 'status = warn\nrootLogger.level = warn\n';

function javaArgs(services: BenchServices, mainClass: string, args: string[]): string[] {
  const log4j = path.join(services.workDir, 'tools-log4j2.properties');
  writeFileSync(log4j, LOG4J2);
  return [
    // What kafka-run-class.sh gives the tools (KAFKA_HEAP_OPTS), a bit more room for 1M latencies.
    '-Xmx512m',
    '-XX:+UseG1GC',
    `-Dlog4j2.configurationFile=${log4j}`,
    '-cp',
    `${services.libs}/*`,
    mainClass,
    ...args,
  ];
}

/**
 * ProducerPerformance with the same record count and size as our positions, acks=all and
 * idempotence on (what our publisher uses), throttling off.
 */
export async function producerPerformance(
  services: BenchServices,
  topic: string,
  records: number,
  recordSize: number,
): Promise<ProducerPerfResult> {
  const out = await runCaptured(
    'java',
    javaArgs(services, 'org.apache.kafka.tools.ProducerPerformance', [
      '--topic',
      topic,
      '--num-records',
      String(records),
      '--record-size',
      String(recordSize),
      '--throughput',
      '-1',
      '--producer-props',
      `bootstrap.servers=${services.brokers.join(',')}`,
      'acks=all',
      'enable.idempotence=true',
    ]),
    { logFile: path.join(services.workDir, 'producer-performance.log'), timeoutMs: 30 * 60_000 },
  );
  const parsed = out.code === 0 ? parseProducerPerformance(out.stdout) : null;
  if (!parsed) {
    throw new ServiceError(
      `ProducerPerformance failed (exit ${out.code}): ${(out.stdout + out.stderr).slice(-1500)}`,
    );
  }
  return { ...parsed, recordSize };
}

/**
 * The final summary line of ProducerPerformance: "1000000 records sent, 250000.0 records/sec (42.00
 * MB/sec), 12.3 ms avg latency, 300.0 ms max latency, 5 ms 50th, 40 ms 95th, 80 ms 99th, 120 ms
 * 99.9th." (progress lines before it have no percentiles). Null when absent or when the tool
 * reported send errors.
 */
export function parseProducerPerformance(stdout: string): Omit<ProducerPerfResult, 'recordSize'> | null {
  if (/Exception/.test(stdout)) return null;
  const match =
    /(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency.*?, (\d+) ms 99th/.exec(
      stdout,
    );
  if (!match) return null;
  return {
    records: Number(match[1]),
    recordsPerS: Math.round(Number(match[2])),
    mbPerS: Number(match[3]),
    avgLatencyMs: Number(match[4]),
    p99LatencyMs: Number(match[5]),
  };
}

/** ConsumerPerformance reading `records` messages of `topic` from the start, in a fresh group. */
export async function consumerPerformance(
  services: BenchServices,
  topic: string,
  records: number,
): Promise<ConsumerPerfResult> {
  const out = await runCaptured(
    'java',
    javaArgs(services, 'org.apache.kafka.tools.ConsumerPerformance', [
      '--bootstrap-server',
      services.brokers.join(','),
      '--topic',
      topic,
      '--messages',
      String(records),
      '--group',
      `bench-consumer-perf-${Date.now()}`,
      '--timeout',
      '60000',
    ]),
    { logFile: path.join(services.workDir, 'consumer-performance.log'), timeoutMs: 30 * 60_000 },
  );
  const parsed = out.code === 0 ? parseConsumerPerformance(out.stdout) : null;
  if (!parsed) {
    throw new ServiceError(
      `ConsumerPerformance failed (exit ${out.code}): ${(out.stdout + out.stderr).slice(-1500)}`,
    );
  }
  if (parsed.records < records) {
    throw new ServiceError(`ConsumerPerformance read only ${parsed.records} of ${records} records (timeout)`);
  }
  return parsed;
}

/**
 * ConsumerPerformance's header line and the values line under it ("start.time, end.time,
 * data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms,
 * fetch.MB.sec, fetch.nMsg.sec"), read by column name. Null when absent.
 */
export function parseConsumerPerformance(stdout: string): ConsumerPerfResult | null {
  const lines = stdout.split('\n').map((l) => l.trim());
  const headerAt = lines.findIndex((l) => l.startsWith('start.time'));
  if (headerAt < 0) return null;
  const header = lines[headerAt]!.split(/,\s*/);
  const values = lines[headerAt + 1]?.split(/,\s*/) ?? [];
  const field = (name: string) => Number(values[header.indexOf(name)]);
  const result: ConsumerPerfResult = {
    records: field('data.consumed.in.nMsg'),
    recordsPerS: Math.round(field('fetch.nMsg.sec')),
    mbPerS: Math.round(field('fetch.MB.sec') * 100) / 100,
    recordsPerSWithJoin: Math.round(field('nMsg.sec')),
    rebalanceMs: field('rebalance.time.ms'),
    fetchMs: field('fetch.time.ms'),
  };
  return Object.values(result).every(Number.isFinite) ? result : null;
}
