import { readFileSync } from 'node:fs';

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

/** CPU seconds each named process used between `start()` and `stop()`. */
export class CpuMeter {
  private readonly before = new Map<string, number>();

  constructor(private readonly pids: Readonly<Record<string, number | undefined>>) {}

  start(): this {
    for (const [name, pid] of Object.entries(this.pids)) {
      const t = pid === undefined ? null : cpuTimeOf(pid);
      if (t !== null) this.before.set(name, t);
    }
    return this;
  }

  /** CPU seconds per process over the interval. */
  stop(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, pid] of Object.entries(this.pids)) {
      const start = this.before.get(name);
      const end = pid === undefined ? null : cpuTimeOf(pid);
      if (start !== undefined && end !== null) out[name] = Math.round((end - start) / 10) / 100;
    }
    return out;
  }
}
