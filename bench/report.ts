import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cpuText } from './headline.js';
import { latencyRows } from './latency-report.js';
import { peerRows } from './peer-report.js';
import { clientAbRows } from './client-ab-report.js';
import { scaleOutRows } from './scale-out-report.js';
import type { BenchResults } from './results.js';

const n = (v: number | null | undefined) => (v === null || v === undefined ? '—' : v.toLocaleString('en-US'));
const x = (v: number | null | undefined) => (v === null || v === undefined ? '—' : `${v.toFixed(2)}×`);
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
  if (d.publisherPlatformatic) {
    const q = r.ratios.publisher_platformatic_vs_producer_perf;
    lines.push(
      `| Publisher alone, max rate (${d.publisherPlatformatic.tool}, a topic of its own) | ${n(
        d.publisherPlatformatic.recordsPerS,
      )} msg/s, ${n(d.publisherPlatformatic.mbPerS)} MB/s | ProducerPerformance | ${x(q)} | ≥ 100,000 msg/s${check(
        d.publisherPlatformatic.recordsPerS >= 100_000,
      )} or ≥ 0.5×${check(q === null ? null : q >= 0.5)} |`,
    );
  }
  lines.push(
    `| Processor replay → Redis + DuckDB (\`fleet process\`, from earliest) | ${n(proc)} records/s${unverified(r)} | ConsumerPerformance, same topic: ${n(
      r.consumer_perf_records_per_s,
    )} records/s | ${x(procRatio)} | ≥ 50,000/s${check(proc === null ? null : proc >= 50_000)}, ≥ 0.5×${check(
      procRatio === null ? null : procRatio >= 0.5,
    )} |`,
    `| CPU per record, processor replay (per process, start-up excluded) | ${cpuText(r.cpu_us_per_record?.replay)} | — | — | — |`,
    `| \`fleet replay\` → Redis only (same topic, own table) | ${n(r.redis_replay_records_per_s)} records/s; CPU ${cpuText(
      r.cpu_us_per_record?.redis_replay,
    )} | the processor replay above: ${n(proc)} records/s | ${x(r.redis_replay_vs_processor)} | ≥ 2×${check(
      r.redis_replay_vs_processor === null ? null : r.redis_replay_vs_processor >= 2,
    )} |`,
    `| Events processor replay (\`fleet events-process\`, transactions, ${n(r.events_processor_geofences)} geofences) | ${n(
      r.events_processor_records_per_s,
    )} records/s${d.events?.verified ? `, output ${d.events.verified.ok ? 'verified ✅' : 'NOT verified ❌'}` : ''} | the processor replay above: ${n(proc)} records/s | ${x(
      r.events_processor_records_per_s !== null && proc ? r.events_processor_records_per_s / proc : null,
    )} | — |`,
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
  lines.push(...clientAbRows(r));
  lines.push(...peerRows(r));
  lines.push(...scaleOutRows(r));
  lines.push(...latencyRows(r));
  if (r.processor_peak_rss_mb !== null) {
    lines.push(
      `| Processor peak RSS, replay of ${n(r.options.vehicles)} vehicles | ${n(r.processor_peak_rss_mb)} MB | — | — | ≤ 300 MB${check(
        r.processor_peak_rss_mb <= 300,
      )} |`,
    );
  }
  if (d.wire) {
    const { json, avro } = d.wire;
    lines.push(
      `| Bytes per position on the wire, Avro (gzip'd batches of 1000) | ${avro.bytesPerPosition} B (${avro.gzipBytesPerPosition} B) | JSON: ${json.bytesPerPosition} B (${json.gzipBytesPerPosition} B) | ${x(avro.bytesPerPosition / json.bytesPerPosition)} | — |`,
      `| Processor decode CPU per record, Avro (producer encode) | ${avro.decodeUsPerRecord} µs (${avro.encodeUsPerRecord} µs) | JSON: ${json.decodeUsPerRecord} µs (${json.encodeUsPerRecord} µs) | ${x(avro.decodeUsPerRecord / json.decodeUsPerRecord)} | — |`,
    );
  }
  const errors = Object.entries(d.errors);
  if (errors.length) {
    lines.push('', ...errors.map(([step, message]) => `- **${step} failed**: ${message.split('\n')[0]}`));
  }
  return lines.join('\n');
}

/** A replay whose stored counts were wrong: its rate is not what it claims. */
function unverified(r: BenchResults): string {
  const v = r.details.replay?.verified;
  if (!v || v.ok) return '';
  return ` **❌ verification failed: ${n(v.redisVehicles)} vehicles in Redis, ${n(v.warehouseRows)} rows in DuckDB**`;
}

const START = '<!-- bench:results:start -->';
const END = '<!-- bench:results:end -->';

/** `2026-12-01T21-40-05Z`, with `-quick` or `-custom` unless a full run: the run's file name, without `.json`. */
export function resultsName(results: Pick<BenchResults, 'date' | 'mode'>): string {
  const stamp = `${results.date.slice(0, 19).replace(/:/g, '-')}Z`;
  return results.mode === 'full' ? stamp : `${stamp}-${results.mode}`;
}

/**
 * Writes the run to a NEW file `<outDir>/results/<UTC timestamp>[-quick|-custom].json` (never
 * overwriting one: a clash gets `-2`, `-3`, …); full runs also replace the table between the
 * markers of `<outDir>/README.md`. Returns the JSON path.
 */
export async function writeResults(outDir: string, results: BenchResults, table: string): Promise<string> {
  const dir = path.join(outDir, 'results');
  mkdirSync(dir, { recursive: true });
  const text = `${JSON.stringify(results, null, 2)}\n`;
  const base = resultsName(results);
  for (let attempt = 1; ; attempt++) {
    const file = path.join(dir, `${base}${attempt === 1 ? '' : `-${attempt}`}.json`);
    try {
      writeFileSync(file, text, { flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw err;
    }
    if (results.mode === 'full') await keepTableInReadme(outDir, table, path.basename(file));
    return file;
  }
}

/**
 * Replaces the table between the markers of `<outDir>/README.md` (formatted with the project's
 * Prettier settings, so `npm run lint` stays clean), linking `results/<jsonName>`.
 */
export async function keepTableInReadme(outDir: string, table: string, jsonName: string): Promise<void> {
  const readme = path.join(outDir, 'README.md');
  if (!existsSync(readme)) return;
  const text = readFileSync(readme, 'utf8');
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  if (start < 0 || end <= start) return;
  const section = `${START}\n${table}\n\nRaw figures: [results/${jsonName}](results/${jsonName}).\n${END}`;
  writeFileSync(
    readme,
    await formatMarkdown(text.slice(0, start) + section + text.slice(end + END.length), readme),
  );
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
