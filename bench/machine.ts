import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { pinnedKafkaVersion } from '../src/local/kafka-jars.js';

/** What the numbers were measured on; stored with every result. */
export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGb: number;
  os: string;
  node: string;
  java: string;
  kafka: string;
  redis: string;
  /** 1-minute load average when the bench started and ended. */
  loadAtStart: number;
  loadAtEnd?: number;
  /** Other test processes seen running (shared machine): vitest workers, other benches. */
  concurrentTestProcesses: number;
}

function firstLine(command: string, args: string[]): string {
  const out = spawnSync(command, args, { encoding: 'utf8' });
  return `${out.stdout ?? ''}${out.stderr ?? ''}`.split('\n')[0]?.trim() ?? 'unknown';
}

/** Processes of other people's tests (vitest / another bench) running right now. */
export function concurrentTestProcesses(): number {
  const out = spawnSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' }).stdout ?? '';
  // Not this bench itself, nor the `sh -c` that npm runs it in.
  const own = new Set([process.pid, process.ppid]);
  return out
    .split('\n')
    .filter((l) => /vitest|fleet\.js (bench|faults)/.test(l))
    .filter((l) => !own.has(Number(l.trim().split(/\s+/)[0]))).length;
}

function osName(): string {
  try {
    const release = readFileSync('/etc/os-release', 'utf8');
    return /^PRETTY_NAME="?([^"\n]+)/m.exec(release)?.[1] ?? `${os.type()} ${os.release()}`;
  } catch {
    return `${os.type()} ${os.release()}`;
  }
}

export function describeMachine(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGb: Math.round(os.totalmem() / 1024 ** 3),
    os: `${osName()} (kernel ${os.release()})`,
    node: process.version,
    java: firstLine('java', ['-version']),
    kafka: pinnedKafkaVersion(),
    redis: firstLine('redis-server', ['--version']),
    loadAtStart: Math.round(os.loadavg()[0]! * 100) / 100,
    concurrentTestProcesses: concurrentTestProcesses(),
  };
}
