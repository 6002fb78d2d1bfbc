/**
 * Kafka's key hash: the 32-bit MurmurHash2 variant of the Java client (`Utils.murmur2`, seed
 * 0x9747b28c), which kafkajs' DefaultPartitioner also implements. The state table uses it to find a
 * vehicle's shard from its id alone, so it must give the partition the producers chose.
 */
export function murmur2(data: Uint8Array): number {
  const m = 0x5bd1e995;
  const length = data.length;
  let h = 0x9747b28c ^ length;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const rest = length & 3;
  if (rest === 3) h ^= data[whole + 2]! << 16;
  if (rest >= 2) h ^= data[whole + 1]! << 8;
  if (rest >= 1) h = Math.imul(h ^ data[whole]!, m);
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

const encoder = new TextEncoder();
/** Reused for ASCII keys (vehicle ids are ASCII): their UTF-8 bytes are their char codes. */
let scratch = new Uint8Array(64);

/** The UTF-8 bytes of `key`, without allocating for ASCII keys (the hot path: one per record). */
function keyBytes(key: string): Uint8Array {
  const length = key.length;
  if (length > scratch.length) scratch = new Uint8Array(length * 2);
  for (let i = 0; i < length; i++) {
    const c = key.charCodeAt(i);
    if (c > 0x7f) return encoder.encode(key);
    scratch[i] = c;
  }
  return scratch.subarray(0, length);
}

/** The partition Kafka's default partitioner gives a (UTF-8) key among `partitions` partitions. */
export function partitionForKey(key: string, partitions: number): number {
  if (!Number.isInteger(partitions) || partitions < 1) {
    throw new RangeError(`partition count must be a positive integer, got ${partitions}`);
  }
  return (murmur2(keyBytes(key)) & 0x7fffffff) % partitions;
}
