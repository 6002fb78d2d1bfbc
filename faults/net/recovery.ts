import type { Admin } from 'kafkajs';
import { sleep } from '../../src/retry.js';
import type { FleetChild } from '../children.js';

/** End offset of every partition of a topic now. */
export async function endOffsetsByPartition(admin: Admin, topic: string): Promise<Map<number, number>> {
  return new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.high)]));
}

/**
 * Waits until the group has committed every partition up to `targets` (the end offsets when the
 * fault was healed): the backlog the fault left is in the warehouse and the table. Returns how long
 * that took; throws when the processor exits or `timeoutMs` passes.
 */
export async function caughtUp(
  admin: Admin,
  group: string,
  topic: string,
  targets: Map<number, number>,
  processor: FleetChild,
  timeoutMs: number,
): Promise<number> {
  const started = Date.now();
  for (;;) {
    const committed = await admin.fetchOffsets({ groupId: group, topics: [topic] }).catch(() => undefined);
    const at = new Map((committed?.[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
    const behind = [...targets].filter(([partition, end]) => (at.get(partition) ?? -1) < end);
    if (committed && behind.length === 0) return Date.now() - started;
    if (!processor.alive)
      throw new Error(
        `${processor.name} exited (${JSON.stringify(processor.exitInfo)}):\n${processor.tail()}`,
      );
    if (Date.now() - started > timeoutMs) {
      throw new Error(
        `not caught up ${timeoutMs} ms after the heal: behind on ${behind.map(([p, end]) => `p${p} ${at.get(p) ?? -1}/${end}`).join(', ')}`,
      );
    }
    await sleep(250);
  }
}

/**
 * Waits until the group has committed at least once on every partition that holds records: the
 * processor has joined and its whole path (fetch, warehouse, table, commit) works before any fault.
 */
export async function committedEverywhere(
  admin: Admin,
  group: string,
  topic: string,
  processor: FleetChild,
  timeoutMs: number,
): Promise<void> {
  const targets = new Map(
    [...(await endOffsetsByPartition(admin, topic))].map(([p, end]) => [p, Math.min(end, 1)]),
  );
  await caughtUp(admin, group, topic, targets, processor, timeoutMs);
}
