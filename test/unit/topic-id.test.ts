import { describe, expect, it } from 'vitest';
import {
  decodeMetadataResponse,
  encodeMetadataRequest,
  topicIdText,
  UNKNOWN_TOPIC_ID,
} from '../../src/kafka/topic-id.js';
import { silentLogger } from '../../src/logger.js';
import { TopicIdentity, TopicRecreatedError } from '../../src/sources/topic-identity.js';

const uuid = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
const cstr = (s: string | null) =>
  s === null ? Buffer.from([0]) : Buffer.concat([Buffer.from([Buffer.byteLength(s) + 1]), Buffer.from(s)]);
const int = (n: number, bytes: number) => {
  const b = Buffer.alloc(bytes);
  b.writeIntBE(n, 0, bytes);
  return b;
};

describe('Metadata v10+ for topic ids (Kafka protocol, flexible versions)', () => {
  it("renders ids in Kafka's text form; the zero id is Kafka's 'no id'", () => {
    expect(topicIdText(uuid)).toBe('ABEiM0RVZneImaq7zN3u_w');
    expect(topicIdText(Buffer.alloc(16))).toBe(UNKNOWN_TOPIC_ID);
  });

  it('encodes one topic by name (v12 has no include_cluster_authorized_operations)', () => {
    const body = encodeMetadataRequest('pos', 12);
    // header tags, topics [1], zero id, "pos", topic tags, auto-create, topic auth ops, body tags
    expect(body.toString('hex')).toBe(`00020000000000000000000000000000000004706f73000000` + '00');
    expect(encodeMetadataRequest('pos', 10)).toHaveLength(body.length + 1);
  });

  it('decodes the first topic past the brokers, cluster id and controller', () => {
    const response = Buffer.concat([
      Buffer.from([0]), // response header tags
      int(0, 4), // throttle
      Buffer.from([3]), // 2 brokers
      ...[1, 2].flatMap((id) => [
        int(id, 4),
        cstr(`broker-${id}`),
        int(9092, 4),
        cstr(null),
        Buffer.from([0]),
      ]),
      cstr('cluster'),
      int(1, 4),
      Buffer.from([2]), // 1 topic
      int(0, 2),
      cstr('pos'),
      uuid,
      Buffer.from([0]), // is_internal; partitions etc. follow but are not read
    ]);
    expect(decodeMetadataResponse(response)).toEqual({
      errorCode: 0,
      name: 'pos',
      topicId: topicIdText(uuid),
    });
  });
});

describe('TopicIdentity', () => {
  function identity(ids: string[], now = () => 0) {
    const reads: string[] = [];
    const ti = new TopicIdentity({
      topic: 't',
      logger: silentLogger,
      retry: { retries: 0 },
      now,
      lookup: () => {
        const id = ids.shift()!;
        reads.push(id);
        return Promise.resolve(id);
      },
    });
    return { ti, reads };
  }

  it('reads once on assignment and reuses the id until the offset goes back or it is old', async () => {
    let t = 0;
    const { ti, reads } = identity(['A', 'A', 'A'], () => t);
    await ti.refresh();
    expect(await ti.forBatch(false)).toBe('A');
    expect(reads).toEqual(['A']);
    expect(await ti.forBatch(true)).toBe('A'); // offset went back: read again
    t = 30_000;
    expect(await ti.forBatch(false)).toBe('A'); // stale: read again
    expect(reads).toHaveLength(3);
  });

  it('refuses a batch once the topic has a new id (re-created while running)', async () => {
    const { ti } = identity(['A', 'B']);
    await ti.refresh();
    await expect(ti.forBatch(true)).rejects.toBeInstanceOf(TopicRecreatedError);
    expect(ti.id).toBe('A');
  });
});
