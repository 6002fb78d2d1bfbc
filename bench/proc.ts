import { readFileSync } from 'node:fs';
import { perSecond } from './stats.js';

/** Resident memory of a process from /proc/<pid>/status, MB. Null once it is gone. */
export function memoryOf(pid: number): { rssMb: number; hwmMb: number } | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
}

const CLOCK_TICKS_PER_S = 100;

/** User + system CPU time a process has used so far, ms (from /proc/<pid>/stat). */
export function cpuTimeOf(pid: number): number | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // Fields after the parenthesised command name (which may contain spaces).
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / CLOCK_TICKS_PER_S;
}

/**
 * Samples a process' RSS every `intervalMs`; the peak is the larger of the sampled maximum and the
 * kernel's own high-water mark (VmHWM), so short spikes between samples are not missed.
 */
export class MemorySampler {
  private timer: NodeJS.Timeout;
  private peak = 0;
  private last = 0;

  constructor(
    private readonly pid: number,
    intervalMs = 200,
  ) {
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
    this.sample();
  }

  private sample(): void {
    const m = memoryOf(this.pid);
    if (!m) return;
    this.last = m.rssMb;
    this.peak = Math.max(this.peak, m.rssMb, Number.isNaN(m.hwmMb) ? 0 : m.hwmMb);
  }

  /** Stops sampling (call before the process exits, to take a last HWM reading). */
  stop(): { peakRssMb: number; lastRssMb: number } {
    this.sample();
    clearInterval(this.timer);
    return { peakRssMb: Math.round(this.peak), lastRssMb: Math.round(this.last) };
  }
}

/**
 * CPU seconds each named process used between `start()` and `stop()`. Sampled every second too, so
 * a process that exits before `stop()` still reports what it used up to its last sample.
 */
export class CpuMeter {
  private readonly first = new Map<string, number>();
  private readonly last = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly pids: Readonly<Record<string, number | undefined>>) {}

  private sample(into: Map<string, number>): void {
    for (const [name, pid] of Object.entries(this.pids)) {
      const t = pid === undefined ? null : cpuTimeOf(pid);
      if (t !== null) into.set(name, t);
    }
  }

  start(): this {
    this.sample(this.first);
    this.timer = setInterval(() => this.sample(this.last), 1000);
    this.timer.unref();
    return this;
  }

  /** CPU seconds per process over the interval. */
  stop(): Record<string, number> {
    clearInterval(this.timer);
    this.sample(this.last);
    const out: Record<string, number> = {};
    for (const [name, start] of this.first) {
      const end = this.last.get(name);
      if (end !== undefined) out[name] = Math.round((end - start) / 10) / 100;
    }
    return out;
  }
}

export interface CpuWindowResult {
  records: number;
  recordsPerS: number;
  /** This process's CPU (all its threads) over the window ÷ records, µs. */
  cpuUsPerRecord: number;
  /** The broker's CPU over the same window ÷ records, µs (null when /proc could not tell). */
  brokerCpuUsPerRecord: number | null;
}

/**
 * Starts timing this process's and the broker's CPU; the returned function closes the window over
 * `records` records.
 */
export function cpuWindow(brokerPid: number): (records: number) => CpuWindowResult {
  const cpu0 = process.cpuUsage();
  const broker0 = cpuTimeOf(brokerPid);
  const t0 = performance.now();
  return (records) => {
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const broker1 = cpuTimeOf(brokerPid);
    const perRecord = (us: number) => Math.round((us * 10) / Math.max(1, records)) / 10;
    return {
      records,
      recordsPerS: perSecond(records, ms),
      cpuUsPerRecord: perRecord(cpu.user + cpu.system),
      brokerCpuUsPerRecord:
        broker0 === null || broker1 === null ? null : perRecord((broker1 - broker0) * 1000),
    };
  };
}
