/** What the comparison of our processor with the Kafka Streams peer needs from each replay. */
export interface ReplayFigures {
  records: number;
  recordsPerS: number;
  /** CPU seconds of the process doing the work (ours: `processor`, the peer: `peer`). */
  cpuSeconds: number | undefined;
  peakRssMb: number;
}

export interface PeerComparison {
  processorCpuUsPerRecord: number | null;
  peerCpuUsPerRecord: number | null;
  /** Ours ÷ peer, records per second: ≥ 1 means ours is at least as fast. */
  throughput: number | null;
  /** Ours ÷ peer, CPU µs per record: ≤ 1 means ours spends no more CPU per record. */
  cpuPerRecord: number | null;
  /** Ours ÷ peer, peak RSS: ≤ 1 means ours needs no more memory. */
  rss: number | null;
}

/** CPU microseconds per record, one decimal; null without a CPU figure or records. */
export function cpuUsPerRecord(cpuSeconds: number | undefined, records: number): number | null {
  if (cpuSeconds === undefined || !Number.isFinite(cpuSeconds) || records <= 0) return null;
  return Math.round((cpuSeconds * 1e6 * 10) / records) / 10;
}

const ratio = (a: number | null, b: number | null) =>
  a !== null && b !== null && a > 0 && b > 0 ? Math.round((a / b) * 100) / 100 : null;

/** Ours ÷ peer for throughput, CPU per record and RSS; null where either side is missing. */
export function comparePeer(
  ours: ReplayFigures | undefined,
  peer: ReplayFigures | undefined,
): PeerComparison {
  const processorCpuUsPerRecord = ours ? cpuUsPerRecord(ours.cpuSeconds, ours.records) : null;
  const peerCpuUsPerRecord = peer ? cpuUsPerRecord(peer.cpuSeconds, peer.records) : null;
  return {
    processorCpuUsPerRecord,
    peerCpuUsPerRecord,
    throughput: ratio(ours?.recordsPerS ?? null, peer?.recordsPerS ?? null),
    cpuPerRecord: ratio(processorCpuUsPerRecord, peerCpuUsPerRecord),
    rss: ratio(ours?.peakRssMb ?? null, peer?.peakRssMb ?? null),
  };
}
