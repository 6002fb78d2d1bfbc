import { readFileSync } from 'node:fs';
import type { Config } from '../src/config/index.js';
import { ServiceError } from '../src/errors.js';
import { runCaptured } from './child-process.js';
import { spawnFleet } from './fleet-child.js';
import { CpuMeter, MemorySampler } from './proc.js';
import type { ProducerResult } from './producer.js';
import { childEnv, createPositionTopic, type BenchServices } from './services.js';

/**
 * Asked-for rate of the simulator's max-throughput run: far above what one Node process can publish,
 * so the publisher's acknowledgements set the pace (the simulator waits when too much is unacked).
 */
const MAX_RATE = 200_000;

export interface SimulatorResult extends ProducerResult {
  seconds: number;
  cpuSeconds: Record<string, number>;
  peakRssMb: number;
}

/**
 * `fleet simulate --rate <far above reach> --vehicles N --duration D`: the simulator's max throughput
 * through its publisher (acks=all, idempotent, gzip), from its own final `simulation finished` line.
 */
export async function simulatorThroughput(
  services: BenchServices,
  config: Readonly<Config>,
  options: { vehicles: number; durationMs: number },
): Promise<SimulatorResult> {
  await createPositionTopic(services, config);
  const args = ['simulate', '--rate', String(MAX_RATE), '--vehicles', String(options.vehicles)];
  const fleet = spawnFleet(services, [...args, '--duration', `${options.durationMs}ms`, '--seed', '1'], {
    name: 'simulator',
    env: { TOPIC: config.topic.name, LOG_LEVEL: 'info' },
  });
  const memory = new MemorySampler(fleet.pid);
  const cpu = new CpuMeter({ simulator: fleet.pid, kafka: services.pids.kafka }).start();
  const timer = setTimeout(() => void fleet.stop(), options.durationMs + 120_000);
  const code = await new Promise<number | null>((resolve) => fleet.child.once('exit', resolve));
  clearTimeout(timer);
  const cpuSeconds = cpu.stop();
  const { peakRssMb } = memory.stop();
  const summary = readFileSync(fleet.logFile, 'utf8')
    .split('\n')
    .filter((line) => line.includes('"simulation finished"'))
    .map(
      (line) => JSON.parse(line) as { acked: number; failed: number; seconds: number; ackedPerSec: number },
    )
    .at(-1);
  if (code !== 0 || !summary) {
    throw new ServiceError(`fleet simulate failed (exit ${code}); see ${fleet.logFile}`);
  }
  const avgRecordBytes = await simulatorRecordBytes(services);
  return {
    tool: `fleet simulate --rate ${MAX_RATE} (acks=all, idempotent, gzip)`,
    records: summary.acked,
    recordsPerS: summary.ackedPerSec,
    mbPerS: Math.round(((summary.ackedPerSec * avgRecordBytes) / 1024 / 1024) * 100) / 100,
    avgRecordBytes,
    failed: summary.failed,
    seconds: Math.round(summary.seconds * 10) / 10,
    cpuSeconds,
    peakRssMb,
  };
}

/** Average encoded size of the simulator's positions (`--dry-run` prints exactly the JSON it publishes). */
async function simulatorRecordBytes(services: BenchServices): Promise<number> {
  const out = await runCaptured(
    process.execPath,
    [
      services.runtime.entry,
      'simulate',
      '--dry-run',
      '--duration',
      '10m',
      '--vehicles',
      '200',
      '--seed',
      '1',
    ],
    { env: childEnv(services), timeoutMs: 60_000 },
  );
  const lines = out.stdout.split('\n').filter((l) => l.startsWith('{'));
  if (lines.length === 0) throw new ServiceError('fleet simulate --dry-run printed no positions');
  return Math.round(lines.reduce((sum, l) => sum + Buffer.byteLength(l), 0) / lines.length);
}
