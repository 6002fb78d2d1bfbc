import type { BenchResults } from './results.js';

const n = (v: number | null | undefined) => (v === null || v === undefined ? '—' : v.toLocaleString('en-US'));

/** Rows of the `--processors` replays: throughput and CPU per record per processor count. */
export function scaleOutRows(r: BenchResults): string[] {
  const scale = r.details.scaleOut;
  if (!scale) return [];
  const one = scale.runs[0];
  const failed = Object.entries(scale.errors ?? {}).map(
    ([n, error]) =>
      `| Processor replay by ${n} × \`fleet process\` in one group | failed: ${error.split('\n')[0]} | — | — | — |`,
  );
  return [
    ...scale.runs.map((run) => {
      const vsFirst =
        one && one !== run && one.cpuUsPerRecord > 0
          ? `${(run.cpuUsPerRecord / one.cpuUsPerRecord).toFixed(2)}× the CPU per record of ${one.processors}`
          : '—';
      const each = run.cpuSecondsPerProcess.map((s) => `${s} s`).join(' + ');
      return `| Processor replay by ${run.processors} × \`fleet process\` in one group (${n(run.records)} records timed${
        run.beforeAllJoined ? `, ${n(run.beforeAllJoined)} before all joined` : ''
      }) | ${n(run.recordsPerS)} records/s; processors' CPU ${run.cpuUsPerRecord} µs per record (${each}) | broker ${n(
        run.kafkaCpuUsPerRecord,
      )} µs, Redis ${n(run.redisCpuUsPerRecord)} µs per record${run.verified.ok ? '' : ' ❌ stored counts wrong'} | ${vsFirst} | CPU per record must not grow |`;
    }),
    ...failed,
  ];
}
