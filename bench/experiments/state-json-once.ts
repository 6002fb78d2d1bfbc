/**
 * Issue 17 item 2, "one JSON stringify per record instead of two": what the second `stateJson` of
 * a logged record cost, per record, over 1M bench positions (three rounds, CPU of this process, GC
 * included). Run: `npx tsx bench/experiments/state-json-once.ts`.
 */
import { benchPosition, seededRandom } from '../fleet-positions.js';
import { stateJson } from '../../src/state/upsert-script.js';
import type { PositionRecord } from '../../src/domain/records.js';

const random = seededRandom(3);
const N = 1_000_000;
const records: PositionRecord[] = [];
const t0 = Date.now() - 3_600_000;
for (let i = 0; i < N; i++) {
  const position = benchPosition(i % 250_000, t0 + i, random);
  records.push({
    topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
    position,
    kafkaTs: t0,
    bytes: 200,
    partition: i % 3,
    offset: String(i),
  } as unknown as PositionRecord);
}
let sink = 0;
const round = (calls: number) => {
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < N; i++) for (let c = 0; c < calls; c++) sink += stateJson(records[i]!, 1).length;
  const cpu = process.cpuUsage(cpu0);
  return (cpu.user + cpu.system) / N;
};
// A warm-up round first: the JIT's first pass over either loop is not the steady state.
round(1);
round(2);
const saved: number[] = [];
for (let r = 0; r < 9; r++) {
  const one = round(1);
  const two = round(2);
  saved.push(two - one);
  console.log(
    `round ${r}: one stateJson ${one.toFixed(2)} µs/record, two ${two.toFixed(2)} µs/record, saved ${(two - one).toFixed(2)} µs`,
  );
}
saved.sort((a, b) => a - b);
console.log(`median saved by building it once: ${saved[4]!.toFixed(2)} µs per record`);
console.log('checksum', sink);
