import type { ClientAb, ClientRun } from './client-ab.js';
import type { BenchResults } from './results.js';

const n = (v: number) => v.toLocaleString('en-US');
const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN);

/** Both runs of one client: records/s and µs of this process's CPU per record, in run order. */
function runsOf(runs: ClientRun[], client: ClientRun['client']): string {
  const mine = runs.filter((r) => r.client === client);
  return mine.map((r) => `${n(r.recordsPerS)}/s, ${r.cpuUsPerRecord} µs`).join('; ');
}

/** platformatic ÷ kafkajs over the means of both runs: throughput, and CPU per record. */
export function clientRatios(runs: ClientRun[]): { throughput: number; cpu: number } {
  const of = (client: ClientRun['client'], f: (r: ClientRun) => number) =>
    mean(runs.filter((r) => r.client === client).map(f));
  const round = (v: number) => Math.round(v * 100) / 100;
  return {
    throughput: round(of('@platformatic/kafka', (r) => r.recordsPerS) / of('kafkajs', (r) => r.recordsPerS)),
    cpu: round(of('@platformatic/kafka', (r) => r.cpuUsPerRecord) / of('kafkajs', (r) => r.cpuUsPerRecord)),
  };
}

/** The table rows of the client A/B (none when the step did not run). */
export function clientAbRows(r: BenchResults): string[] {
  const ab: ClientAb | undefined = r.details.clients;
  if (!ab) return [];
  const row = (what: string, runs: ClientRun[]) => {
    const q = clientRatios(runs);
    return `| ${what} | @platformatic/kafka 1.x: ${runsOf(runs, '@platformatic/kafka')} | kafkajs: ${runsOf(
      runs,
      'kafkajs',
    )} | platformatic ÷ kafkajs: ${q.throughput.toFixed(2)}× records/s, ${q.cpu.toFixed(2)}× CPU per record | — |`;
  };
  return [
    row(
      `Client A/B, bare consume loop (${n(ab.consume[0]?.records ?? 0)} records, two runs each, alternated)`,
      ab.consume,
    ),
    row(
      `Client A/B, bare produce (${n(ab.produceRecords)} positions, acks=all, idempotent, gzip, ${ab.messagesPerSend} per send)`,
      ab.produce,
    ),
  ];
}
