import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { RateLatency } from './latency.js';
import type { BenchResults } from './results.js';

const n = (v: number | null | undefined) => (v === null || v === undefined ? '—' : v.toLocaleString('en-US'));
const x = (v: number | null | undefined) => (v === null || v === undefined ? '—' : `${v.toFixed(2)}×`);
const ms = (v: number | null | undefined) =>
  v === null || v === undefined || Number.isNaN(v) ? '—' : `${Math.round(v * 10) / 10} ms`;
const check = (ok: boolean | null) => (ok === null ? '' : ok ? ' ✅' : ' ❌');

/** The results as the markdown table kept in bench/README.md (and printed by `fleet bench`). */
export function markdownTable(r: BenchResults): string {
  const d = r.details;
  const m = r.machine;
  const lines: string[] = [];
  lines.push(
    `Run ${r.date.slice(0, 16).replace('T', ' ')} UTC, mode **${r.mode}**: ${n(r.options.records)} positions of ${n(
      r.options.vehicles,
    )} vehicles, ${r.options.partitions} partitions, rates ${r.options.rates.join(' / ')} msg/s for ${
      r.options.duration_s
    } s each; \`fleet\` children ran ${r.options.runtime === 'tsx' ? 'from source (tsx)' : 'compiled (dist/)'}.`,
    '',
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGb} GB, ${m.os}; Node ${m.node}, ${m.java}, Kafka ${
      m.kafka
    } (1 KRaft node, local), ${m.redis}. Load average ${m.loadAtStart} at start, ${
      m.loadAtEnd ?? '—'
    } at end; ${m.concurrentTestProcesses} other test processes were running.${
      r.options.note ? ` Note: ${r.options.note}` : ''
    }`,
    '',
    '| Measure | Ours | Ceiling (same machine, same run) | Ratio | Target |',
    '| --- | --- | --- | --- | --- |',
  );
  const proc = r.processor_records_per_s;
  const procRatio = r.ratios.processor_vs_consumer_perf;
  const perf = `ProducerPerformance (acks=all, idempotent, ${d.producerPerf?.recordSize ?? '—'} B records): ${n(
    r.producer_perf_records_per_s,
  )} msg/s, ${n(r.producer_perf_mb_per_s)} MB/s`;
  lines.push(
    `| Producer, max rate (${r.producer_tool ?? '—'}) | ${n(r.producer_records_per_s)} msg/s, ${n(
      r.producer_mb_per_s,
    )} MB/s | ${perf} | ${x(r.ratios.producer_vs_producer_perf)} | — |`,
  );
  if (d.simulator && d.producer) {
    lines.push(
      `| Publisher alone, max rate (${d.producer.tool}, the replay pre-load) | ${n(d.producer.recordsPerS)} msg/s, ${n(
        d.producer.mbPerS,
      )} MB/s | ProducerPerformance | ${x(r.ratios.publisher_vs_producer_perf)} | — |`,
    );
  }
  lines.push(
    `| Processor replay → Redis + DuckDB (\`fleet process\`, from earliest) | ${n(proc)} records/s | ConsumerPerformance, same topic: ${n(
      r.consumer_perf_records_per_s,
    )} records/s | ${x(procRatio)} | ≥ 50,000/s${check(proc === null ? null : proc >= 50_000)}, ≥ 0.5×${check(
      procRatio === null ? null : procRatio >= 0.5,
    )} |`,
    `| Raw kafkajs consume loop (no processing) | ${n(r.kafkajs_raw_consume_records_per_s)} records/s | ConsumerPerformance: ${n(
      r.consumer_perf_records_per_s,
    )} records/s | ${x(r.ratios.kafkajs_raw_vs_consumer_perf)} | processor ÷ raw kafkajs: ${x(
      r.ratios.processor_vs_kafkajs_raw,
    )} |`,
    `| Redis pipelined writes (redis-benchmark -P ${d.redis?.pipeline ?? 64}) | — | SET ${n(
      r.redis_benchmark_set_per_s,
    )}/s, HSET (position hash) ${n(r.redis_benchmark_hset_per_s)}/s | processor ÷ HSET: ${x(
      proc && r.redis_benchmark_hset_per_s ? proc / r.redis_benchmark_hset_per_s : null,
    )} | — |`,
  );
  for (const [rate, p] of Object.entries(r.e2e_latency_ms)) {
    const run = d.latency?.find((l) => String(l.rate) === rate);
    const target = rate === '5000' ? `p99 ≤ 100 ms${check(p.p99 <= 100)}` : '—';
    lines.push(
      `| Produce → visible in Redis at ${n(Number(rate))} msg/s (achieved ${n(run?.achievedRate)}) | p50 ${ms(
        p.p50,
      )}, p95 ${ms(p.p95)}, p99 ${ms(p.p99)}, max ${ms(p.max)}${processorSide(run)} | — | — | ${target} |`,
    );
    const w = r.e2e_warehouse_latency_ms[rate];
    if (w) {
      lines.push(
        `| Produce → in warehouse at ${n(Number(rate))} msg/s | p50 ${ms(w.p50)}, p95 ${ms(w.p95)}, p99 ${ms(
          w.p99,
        )}, max ${ms(w.max)} | — | — | micro-batches flush on size or ${5} s |`,
      );
    }
  }
  // Lookups under every rate; the headline (JSON top level) is the highest one, the worst case.
  for (const run of d.latency ?? []) {
    const { byId, nearby } = run.lookups;
    const headline = run === d.latency?.at(-1);
    lines.push(
      `| GET /v1/vehicles/:id under ${n(run.rate)} msg/s | p50 ${ms(byId.p50)}, p99 ${ms(byId.p99)} | — | — | ${
        headline ? `p99 ≤ 5 ms${check(byId.p99 <= 5)}` : '—'
      } |`,
      `| GET /v1/vehicles/nearby (1 km, 10) under ${n(run.rate)} msg/s | p50 ${ms(nearby.p50)}, p99 ${ms(
        nearby.p99,
      )} | — | — | — |`,
    );
  }
  if (r.processor_peak_rss_mb !== null) {
    lines.push(
      `| Processor peak RSS, replay of ${n(r.options.vehicles)} vehicles | ${n(r.processor_peak_rss_mb)} MB | — | — | ≤ 300 MB${check(
        r.processor_peak_rss_mb <= 300,
      )} |`,
    );
  }
  const errors = Object.entries(d.errors);
  if (errors.length) {
    lines.push('', ...errors.map(([step, message]) => `- **${step} failed**: ${message.split('\n')[0]}`));
  }
  return lines.join('\n');
}

/** The processor's own histogram for the same run (bucket bounds), when it was scraped. */
function processorSide(run: RateLatency | undefined) {
  const side = run?.processorSide;
  if (!side || side.p50 === null || side.p99 === null) return '';
  return ` (processor's own histogram: p50 ≤ ${side.p50} ms, p99 ≤ ${side.p99} ms)`;
}

const START = '<!-- bench:results:start -->';
const END = '<!-- bench:results:end -->';

/**
 * Writes `<outDir>/results/<YYYY-MM-DD>[-quick].json`; full runs also replace the table between
 * the markers of `<outDir>/README.md` (formatted with the project's Prettier settings, so
 * `npm run lint` stays clean). Returns the JSON path.
 */
export async function writeResults(outDir: string, results: BenchResults, table: string): Promise<string> {
  const day = results.date.slice(0, 10);
  const suffix = results.mode === 'full' ? '' : `-${results.mode}`;
  const dir = path.join(outDir, 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${day}${suffix}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  const readme = path.join(outDir, 'README.md');
  if (results.mode === 'full' && existsSync(readme)) {
    const text = readFileSync(readme, 'utf8');
    const start = text.indexOf(START);
    const end = text.indexOf(END);
    if (start >= 0 && end > start) {
      const section = `${START}\n${table}\n\nRaw figures: [results/${day}.json](results/${day}.json).\n${END}`;
      writeFileSync(
        readme,
        await formatMarkdown(text.slice(0, start) + section + text.slice(end + END.length), readme),
      );
    }
  }
  return file;
}

async function formatMarkdown(text: string, file: string): Promise<string> {
  try {
    const prettier = await import('prettier');
    const options = (await prettier.resolveConfig(file)) ?? {};
    return await prettier.format(text, { ...options, filepath: file });
  } catch {
    return text;
  }
}
