import { catchUpNote } from './headline.js';
import type { RateLatency } from './latency.js';
import type { BenchResults } from './results.js';

const n = (v: number | null | undefined) => (v === null || v === undefined ? '—' : v.toLocaleString('en-US'));
const x = (v: number | null | undefined) => (v === null || v === undefined ? '—' : `${v.toFixed(2)}×`);
const ms = (v: number | null | undefined) =>
  v === null || v === undefined || Number.isNaN(v) ? '—' : `${Math.round(v * 10) / 10} ms`;
const check = (ok: boolean | null) => (ok === null ? '' : ok ? ' ✅' : ' ❌');

/** Ours ÷ the bare Kafka path at the target rate: at most this many times. */
export const BARE_KAFKA_RATIO_TARGET = 3;
const TARGET_RATE = '5000';

/**
 * The latency runs' rows: produce → Redis beside the bare Kafka path (and ours ÷ it), the
 * warehouse, the lookups with what they did not measure. A run whose observers gave up waiting
 * says so, and its targets cannot be met.
 */
export function latencyRows(r: BenchResults): string[] {
  const d = r.details;
  const lines: string[] = [];
  for (const [rate, p] of Object.entries(r.e2e_latency_ms)) {
    const run = d.latency?.find((l) => String(l.rate) === rate);
    const incomplete = run ? catchUpNote(run) : '';
    const bare = r.e2e_bare_kafka_latency_ms?.[rate];
    const vs = r.e2e_latency_vs_bare_kafka?.[rate] ?? null;
    const target =
      rate === TARGET_RATE
        ? `p99 ≤ 100 ms${check(!incomplete && p.p99 <= 100)}, ≤ ${BARE_KAFKA_RATIO_TARGET}× bare Kafka${check(
            vs === null ? null : !incomplete && vs <= BARE_KAFKA_RATIO_TARGET,
          )}`
        : '—';
    lines.push(
      `| Produce → visible in Redis at ${n(Number(rate))} msg/s (achieved ${n(run?.achievedRate)}) | p50 ${ms(
        p.p50,
      )}, p95 ${ms(p.p95)}, p99 ${ms(p.p99)}, max ${ms(p.max)}${processorSide(run)}${
        incomplete ? `; **${incomplete}**` : ''
      } | ${
        bare
          ? `bare Kafka path (publisher → broker → consumer that only timestamps): p50 ${ms(bare.p50)}, p99 ${ms(
              bare.p99,
            )}, max ${ms(bare.max)}`
          : '—'
      } | ${vs === null ? '—' : `p99 ours ÷ bare: ${x(vs)}`} | ${target} |`,
    );
    const w = r.e2e_warehouse_latency_ms[rate];
    if (w) {
      const partial =
        run?.warehouseCaughtUp === false ? '; **processor had not committed everything: rows missing**' : '';
      lines.push(
        `| Produce → in warehouse at ${n(Number(rate))} msg/s | p50 ${ms(w.p50)}, p95 ${ms(w.p95)}, p99 ${ms(
          w.p99,
        )}, max ${ms(w.max)}${partial} | — | — | micro-batches flush on size or ${5} s |`,
      );
    }
  }
  // Lookups under every rate; the headline (JSON top level) is the highest one, the worst case.
  for (const run of d.latency ?? []) {
    const { byId, nearby, errors, skipped } = run.lookups;
    const headline = run === d.latency?.at(-1);
    // Percentiles that leave out failed or unsent requests flatter the API: no ✅ then.
    const clean = errors === 0 && skipped === 0;
    const lost = `${n(errors)} non-200 or failed, ${n(skipped)} skipped (too many in flight)`;
    lines.push(
      `| GET /v1/vehicles/:id under ${n(run.rate)} msg/s | p50 ${ms(byId.p50)}, p99 ${ms(byId.p99)} (${n(
        byId.count,
      )} answered) | — | — | ${headline ? `p99 ≤ 5 ms${check(clean && byId.p99 <= 5)}` : '—'} |`,
      `| GET /v1/vehicles/nearby (1 km, 10) under ${n(run.rate)} msg/s | p50 ${ms(nearby.p50)}, p99 ${ms(
        nearby.p99,
      )} (${n(nearby.count)} answered) | — | — | — |`,
      `| Lookups not in the figures under ${n(run.rate)} msg/s | ${lost} | — | — | none${check(clean)} |`,
    );
  }
  return lines;
}

/** The processor's own histogram for the same run (bucket bounds), when it was scraped. */
function processorSide(run: RateLatency | undefined) {
  const side = run?.processorSide;
  if (!side || side.p50 === null || side.p99 === null) return '';
  return ` (processor's own histogram: p50 ≤ ${side.p50} ms, p99 ≤ ${side.p99} ms)`;
}
