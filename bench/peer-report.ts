import type { BenchResults } from './results.js';

const n = (v: number | null | undefined) => (v === null || v === undefined ? '—' : v.toLocaleString('en-US'));
const x = (v: number | null | undefined) => (v === null || v === undefined ? '—' : `${v.toFixed(2)}×`);
const us = (v: number | null | undefined) => (v === null || v === undefined ? '—' : `${v} µs`);
const check = (ok: boolean | null) => (ok === null ? '' : ok ? ' ✅' : ' ❌');

/** The table rows of ours beside the Kafka Streams peer (none when the peer step did not run). */
export function peerRows(r: BenchResults): string[] {
  const peer = r.details.peer;
  const c = r.processor_vs_peer;
  if (!peer || !c) return [];
  return [
    `| Kafka Streams peer replay → Redis + DuckDB (bench/peer, same topic, ${peer.jvmFlags.join(' ')}) | ours ${n(
      r.processor_records_per_s,
    )} records/s | peer: ${n(peer.recordsPerS)} records/s | ours ÷ peer: ${x(c.throughput)} | ≥ 1.0×${check(
      c.throughput === null ? null : c.throughput >= 1,
    )} |`,
    `| CPU per record, replay (processor vs peer process) | ours ${us(c.processorCpuUsPerRecord)} | peer: ${us(
      c.peerCpuUsPerRecord,
    )} | ours ÷ peer: ${x(c.cpuPerRecord)} | — |`,
    `| Peak RSS, replay (processor vs peer JVM) | ours ${n(r.processor_peak_rss_mb)} MB | peer: ${n(
      peer.peakRssMb,
    )} MB | ours ÷ peer: ${x(c.rss)} | — |`,
  ];
}
