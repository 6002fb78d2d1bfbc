import type { Registry } from 'prom-client';

/**
 * CloudWatch Embedded Metric Format: one JSON line on stdout per emission carries both the log
 * event and the metric definitions, so ECS's awslogs driver turns metrics into CloudWatch metrics
 * with no agent. https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */
export type EmfUnit = 'Count' | 'Milliseconds';

/** Where an EMF metric's value comes from in our prom-client registry. */
export type EmfSource =
  /**
   * Sum over the matching samples of a counter (or of one `series` of a histogram, e.g. its
   * `_count`), as the increase since the previous emission.
   */
  | { kind: 'increase'; metric: string; series?: string; where?: (labels: Labels) => boolean }
  /**
   * A quantile (0..1] of a histogram's observations since the previous emission, in ms, at bucket
   * resolution: the upper bound of the bucket the quantile falls in (q = 1: the slowest bucket).
   */
  | { kind: 'quantileMs'; metric: string; q: number; where?: (labels: Labels) => boolean }
  /** A gauge per value of one label, each on its own line with that label as a dimension. */
  | { kind: 'gaugeBy'; metric: string; label: string; dimension: string };

export interface EmfMetric {
  /** The CloudWatch metric name (infra/lib/metric-names.ts is the contract). */
  name: string;
  unit: EmfUnit;
  source: EmfSource;
}

type Labels = Record<string, string | number>;
interface Sample {
  labels: Labels;
  value: number;
  metricName?: string;
}

/** One EMF document: the values plus the `_aws` metadata that declares them. */
export function emfDocument(
  namespace: string,
  dimensions: Record<string, string>,
  values: readonly { name: string; unit: EmfUnit; value: number }[],
  timestamp: number,
): Record<string, unknown> {
  const doc: Record<string, unknown> = {
    _aws: {
      Timestamp: timestamp,
      CloudWatchMetrics: [
        {
          Namespace: namespace,
          Dimensions: [Object.keys(dimensions)],
          Metrics: values.map((v) => ({ Name: v.name, Unit: v.unit })),
        },
      ],
    },
    ...dimensions,
  };
  for (const v of values) doc[v.name] = v.value;
  return doc;
}

async function samples(registry: Registry, metric: string): Promise<Sample[]> {
  const m = registry.getSingleMetric(metric);
  if (!m) return [];
  return (await m.get()).values as Sample[];
}

/**
 * Reads the registry every interval and turns it into EMF lines. Counters and histograms are
 * reported as their change over the interval (the first call only takes the baseline), so a
 * restarted task never reports its whole history as one spike.
 */
export class EmfCollector {
  private readonly previous = new Map<string, number>();
  /** After the first collection a series seen for the first time started from zero. */
  private baselined = false;

  constructor(
    private readonly registry: Registry,
    private readonly namespace: string,
    private readonly dimensions: Record<string, string>,
    private readonly metrics: readonly EmfMetric[],
  ) {}

  /** The EMF documents for this interval (none when nothing changed and no gauge has a value). */
  async collect(now = Date.now()): Promise<Record<string, unknown>[]> {
    const plain: { name: string; unit: EmfUnit; value: number }[] = [];
    const docs: Record<string, unknown>[] = [];
    for (const m of this.metrics) {
      const s = m.source;
      if (s.kind === 'gaugeBy') {
        for (const sample of await samples(this.registry, s.metric)) {
          const key = sample.labels[s.label];
          if (key === undefined) continue;
          const dims = { ...this.dimensions, [s.dimension]: String(key) };
          docs.push(
            emfDocument(this.namespace, dims, [{ name: m.name, unit: m.unit, value: sample.value }], now),
          );
        }
        continue;
      }
      const value = s.kind === 'increase' ? await this.increase(m.name, s) : await this.quantile(m.name, s);
      if (value !== null) plain.push({ name: m.name, unit: m.unit, value });
    }
    if (plain.length > 0) docs.unshift(emfDocument(this.namespace, this.dimensions, plain, now));
    this.baselined = true;
    return docs;
  }

  /** Difference of `value` under `key` since the last call; null on the very first collection. */
  private delta(key: string, value: number): number | null {
    const before = this.previous.get(key) ?? (this.baselined ? 0 : undefined);
    this.previous.set(key, value);
    return before === undefined ? null : Math.max(0, value - before);
  }

  private async increase(name: string, s: Extract<EmfSource, { kind: 'increase' }>): Promise<number | null> {
    let total = 0;
    for (const sample of await samples(this.registry, s.metric)) {
      if (s.series !== undefined && sample.metricName !== s.series) continue;
      if (!s.where || s.where(sample.labels)) total += sample.value;
    }
    return this.delta(name, total);
  }

  private async quantile(
    name: string,
    s: Extract<EmfSource, { kind: 'quantileMs' }>,
  ): Promise<number | null> {
    const buckets = new Map<number, number>();
    for (const sample of await samples(this.registry, s.metric)) {
      if (sample.metricName !== `${s.metric}_bucket`) continue;
      const { le, ...rest } = sample.labels;
      if (s.where && !s.where(rest)) continue;
      const bound = le === '+Inf' ? Infinity : Number(le);
      buckets.set(bound, (buckets.get(bound) ?? 0) + sample.value);
    }
    const bounds = [...buckets.keys()].sort((a, b) => a - b);
    // Cumulative counts per bound, as deltas over the interval.
    const deltas = bounds.map((b) => this.delta(`${name}\u0000${b}`, buckets.get(b)!));
    if (deltas.some((d) => d === null) || bounds.length === 0) return null;
    const count = deltas[deltas.length - 1]!;
    if (count === 0) return null;
    const rank = s.q * count;
    for (let i = 0; i < bounds.length; i++) {
      if (deltas[i]! >= rank) {
        // Past the last finite bucket only "slower than it" is known: report that bound.
        const bound = Number.isFinite(bounds[i]!) ? bounds[i]! : (bounds[i - 1] ?? 0);
        return Math.round(bound * 1000 * 1000) / 1000;
      }
    }
    return null;
  }
}

/**
 * Emits every `intervalMs` (timer unref'd: it never keeps a process alive) and once more on stop,
 * so the last interval of a stopping task is not lost. A failed collection is reported, not thrown.
 */
export function startEmfReporter(
  collector: EmfCollector,
  options: { intervalMs: number; write: (line: string) => void; onError: (err: unknown) => void },
): { stop(): Promise<void> } {
  const emit = async () => {
    try {
      for (const doc of await collector.collect()) options.write(`${JSON.stringify(doc)}\n`);
    } catch (err) {
      options.onError(err);
    }
  };
  void emit(); // the baseline of counters and histograms
  const timer = setInterval(() => void emit(), options.intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await emit();
    },
  };
}
