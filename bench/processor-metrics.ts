import http from 'node:http';

/** Per sink, from the processor's own Prometheus metrics: how its time went. */
export interface SinkStats {
  batches: number;
  /** Sum of the time batches took to become durable (writes of one sink never overlap). */
  seconds: number;
  avgRecords: number;
}

export interface ProcessorStats {
  sinks: Record<string, SinkStats>;
  /** Redis upsert round trips (a batch may be several Lua calls, pipelined). */
  upsertSeconds?: number;
  commits?: number;
  /** The processor's own event time → Redis-visible histogram: cumulative count per bucket bound (s). */
  eventToVisible?: { le: number; count: number }[];
  /** Memory as the process sees it (prom-client default metrics), MB: where the RSS goes. */
  memoryMb?: { rss: number; heapTotal: number; heapUsed: number; external: number };
}

/** Scrapes `GET /metrics` of a `fleet process` (METRICS_PORT). Null when it does not answer. */
export async function scrapeProcessor(port: number): Promise<ProcessorStats | null> {
  const text = await new Promise<string | null>((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/metrics' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve(res.statusCode === 200 ? body : null));
      res.on('close', () => resolve(null));
      res.on('error', () => resolve(null));
    });
    req.setTimeout(5000, () => req.destroy());
    req.once('error', () => resolve(null));
  });
  return text === null ? null : parseProcessorMetrics(text);
}

/** Reads the few series the bench reports from Prometheus text format. */
export function parseProcessorMetrics(text: string): ProcessorStats {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)(\{[^}]*\})? ([-\d.e+]+|NaN)$/.exec(line);
    if (match) values.set(`${match[1]}${match[2] ?? ''}`, Number(match[3]));
  }
  const sinks: Record<string, SinkStats> = {};
  for (const [key, count] of values) {
    const sink = /^fleet_processor_flush_duration_seconds_count\{sink="([^"]+)"\}$/.exec(key)?.[1];
    if (!sink || count === 0) continue;
    const records = values.get(`fleet_processor_batch_records_sum{sink="${sink}"}`) ?? 0;
    sinks[sink] = {
      batches: count,
      seconds:
        Math.round((values.get(`fleet_processor_flush_duration_seconds_sum{sink="${sink}"}`) ?? 0) * 100) /
        100,
      avgRecords: Math.round(records / count),
    };
  }
  const upsert = values.get('fleet_state_upsert_seconds_sum');
  const commits = values.get('fleet_processor_commits_total{result="ok"}');
  const eventToVisible: { le: number; count: number }[] = [];
  for (const [key, count] of values) {
    const le = /^fleet_processor_event_to_visible_seconds_bucket\{le="([^"]+)"\}$/.exec(key)?.[1];
    if (le !== undefined) eventToVisible.push({ le: le === '+Inf' ? Infinity : Number(le), count });
  }
  eventToVisible.sort((a, b) => a.le - b.le);
  const mb = (name: string) => Math.round((values.get(name) ?? NaN) / 1024 / 1024);
  const memoryMb = {
    rss: mb('fleet_process_process_resident_memory_bytes'),
    heapTotal: mb('fleet_process_nodejs_heap_size_total_bytes'),
    heapUsed: mb('fleet_process_nodejs_heap_size_used_bytes'),
    external: mb('fleet_process_nodejs_external_memory_bytes'),
  };
  return {
    sinks,
    ...(upsert !== undefined ? { upsertSeconds: Math.round(upsert * 100) / 100 } : {}),
    ...(commits !== undefined ? { commits } : {}),
    ...(Number.isFinite(memoryMb.rss) ? { memoryMb } : {}),
    ...(eventToVisible.length ? { eventToVisible } : {}),
  };
}

/**
 * Percentile from the difference of two cumulative histogram snapshots, as the upper bound of the
 * bucket it falls in (ms): coarse, but from the processor's own clock (upsert resolved).
 */
export function histogramPercentile(
  before: { le: number; count: number }[] | undefined,
  after: { le: number; count: number }[] | undefined,
  p: number,
): number | null {
  if (!after?.length) return null;
  const counts = after.map((b, i) => ({ le: b.le, count: b.count - (before?.[i]?.count ?? 0) }));
  const total = counts.at(-1)!.count;
  if (total <= 0) return null;
  const bucket = counts.find((b) => b.count >= (p / 100) * total);
  return bucket && Number.isFinite(bucket.le) ? bucket.le * 1000 : null;
}
