import type { FleetChild } from './children.js';
import { check, mib, type Check } from './scenario.js';

/** Unlabelled samples of a Prometheus text exposition (labelled series are summed per name). */
export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const value = Number(match[2]);
    if (Number.isFinite(value)) out.set(match[1]!, (out.get(match[1]!) ?? 0) + value);
  }
  return out;
}

export async function scrapeMetrics(port: number): Promise<Map<string, number>> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(2000) });
  return parseMetrics(await response.text());
}

/** One probe of a running processor: its memory and its own backpressure gauges. */
export interface ProbeSample {
  /** ms since the probe started. */
  t: number;
  rss: number;
  unflushedBytes?: number;
  paused?: boolean;
  recordsIn?: number;
  /**
   * JavaScript memory: V8 heap in use plus external (Buffers). Where buffered records live; RSS
   * also holds DuckDB's native buffer pool and indexes, which grow with the table.
   */
  jsBytes?: number;
}

/**
 * Samples a processor child every `everyMs`: RSS from /proc, and (when it serves /metrics on
 * `metricsPort`) `fleet_processor_unflushed_bytes`, `fleet_processor_fetch_paused` and
 * `fleet_processor_records_in_total`.
 */
export function probe(child: FleetChild, options: { metricsPort?: number; everyMs?: number } = {}) {
  const samples: ProbeSample[] = [];
  const t0 = Date.now();
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void (async () => {
      const rss = child.rssBytes();
      if (rss === undefined) return;
      const sample: ProbeSample = { t: Date.now() - t0, rss };
      if (options.metricsPort) {
        const m = await scrapeMetrics(options.metricsPort).catch(() => undefined);
        if (m) {
          sample.unflushedBytes = m.get('fleet_processor_unflushed_bytes');
          const paused = m.get('fleet_processor_fetch_paused');
          if (paused !== undefined) sample.paused = paused > 0;
          sample.recordsIn = m.get('fleet_processor_records_in_total');
          const heap = m.get('fleet_process_nodejs_heap_size_used_bytes');
          const external = m.get('fleet_process_nodejs_external_memory_bytes');
          if (heap !== undefined) sample.jsBytes = heap + (external ?? 0);
        }
      }
      samples.push(sample);
    })().finally(() => (busy = false));
  }, options.everyMs ?? 1000);
  return {
    samples,
    /** Samples taken in [fromMs, toMs) since the probe started. */
    between: (fromMs: number, toMs: number) => samples.filter((s) => s.t >= fromMs && s.t < toMs),
    elapsed: () => Date.now() - t0,
    stop: () => clearInterval(timer),
  };
}

export const peakOf = (values: readonly (number | undefined)[]) =>
  values.reduce<number>((max, v) => (v !== undefined && v > max ? v : max), 0);

/**
 * Memory stayed bounded: the JavaScript memory (heap + external, where unflushed records live)
 * grew by at most 4 × MAX_UNFLUSHED_BYTES (decoded records weigh several times their bytes) plus
 * 128 MiB of slack over `baseline`. RSS is reported too; it also holds DuckDB's native cache.
 */
export function memoryCheck(
  baseline: ProbeSample | undefined,
  samples: readonly ProbeSample[],
  maxUnflushedBytes: number,
): Check {
  const base = baseline?.jsBytes;
  const peak = peakOf(samples.map((s) => s.jsBytes));
  const bound = (base ?? 0) + 4 * maxUnflushedBytes + 128 * 1024 * 1024;
  const rss = `RSS ${mib(baseline?.rss ?? 0)} → peak ${mib(peakOf(samples.map((s) => s.rss)))}`;
  return check(
    'processor memory stayed bounded',
    base !== undefined && peak <= bound,
    base === undefined
      ? `no heap figures from /metrics; ${rss}`
      : `JS heap+external ${mib(base)} → peak ${mib(peak)} (bound ${mib(bound)} = start + 4 × MAX_UNFLUSHED_BYTES + 128 MiB); ${rss}`,
  );
}
