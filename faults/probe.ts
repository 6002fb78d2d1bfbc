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
  /** V8 heap in use (live objects and not yet collected garbage): where decoded records live. */
  heapBytes?: number;
  /** Memory outside the V8 heap held by JS objects (Buffers: fetched record bytes). */
  externalBytes?: number;
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
          sample.heapBytes = m.get('fleet_process_nodejs_heap_size_used_bytes');
          sample.externalBytes = m.get('fleet_process_nodejs_external_memory_bytes');
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

/** The V8 old-space cap processors run with in the memory scenarios (`--max-old-space-size`). */
export const HEAP_CAP_MB = 256;

/** Environment that caps a child's V8 heap: a processor that buffered without bound would die. */
export function heapCapEnv(): Record<string, string> {
  return { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --max-old-space-size=${HEAP_CAP_MB}`.trim() };
}

/**
 * Memory stayed bounded. Heap-in-use figures include garbage V8 has not collected yet, so they
 * bound nothing; instead the processor runs with its heap capped at {@link HEAP_CAP_MB} MiB (a
 * processor holding its backlog would die of "heap out of memory") and must survive the scenario,
 * while its external memory (fetched bytes) stays within 4 × MAX_UNFLUSHED_BYTES + 64 MiB.
 * The backlog (lag at the worst moment) says how much an unbounded buffer would have held.
 * RSS is printed too: it also holds DuckDB's native buffer pool and index, which grow with the table.
 */
export function memoryCheck(options: {
  samples: readonly ProbeSample[];
  survived: boolean;
  maxUnflushedBytes: number;
  /** Records waiting in Kafka at the worst moment, and their average encoded size. */
  backlogRecords: number;
  recordBytes: number;
}): Check {
  const { samples } = options;
  const heapPeak = peakOf(samples.map((s) => s.heapBytes));
  const externalPeak = peakOf(samples.map((s) => s.externalBytes));
  const externalBound = 4 * options.maxUnflushedBytes + 64 * 1024 * 1024;
  const measured = samples.some((s) => s.heapBytes !== undefined);
  return check(
    'processor memory stayed bounded',
    measured && options.survived && externalPeak <= externalBound,
    `${options.survived ? 'survived' : 'DID NOT survive'} with the V8 heap capped at ${HEAP_CAP_MB} MiB while the backlog reached ${options.backlogRecords} records (~${mib(options.backlogRecords * options.recordBytes)} encoded); ` +
      `heap in use peaked at ${mib(heapPeak)}, external at ${mib(externalPeak)} (bound ${mib(externalBound)}); ` +
      `RSS ${mib(samples[0]?.rss ?? 0)} → ${mib(peakOf(samples.map((s) => s.rss)))}`,
  );
}
