import { describe, expect, it } from 'vitest';
import { transactionChunks } from '../../src/processor/events-runtime.js';

const msg = (key: string, valueBytes: number) => ({
  key: Buffer.from(key),
  value: Buffer.alloc(valueBytes, 'x'),
  timestamp: '0',
});

describe('transactionChunks (one transaction as sendBatch calls under the broker limit)', () => {
  it('keeps a small transaction in one call, topics in order', () => {
    const byTopic = new Map([
      ['events', [msg('a', 10), msg('b', 10)]],
      ['changelog', [msg('a', 10)]],
    ]);
    const chunks = transactionChunks(byTopic, 1000);
    expect(chunks).toHaveLength(1);
    expect(chunks[0]!.map((t) => [t.topic, t.messages.map((m) => m.key.toString())])).toEqual([
      ['events', ['a', 'b']],
      ['changelog', ['a']],
    ]);
  });

  it('splits by bytes (key + value + 64 per record), keeping every record once and in order', () => {
    // 10 records of 1 + 135 + 64 = 200 bytes; 500 bytes a call: 2 records each.
    const records = Array.from({ length: 10 }, (_, i) => msg(String(i), 135));
    const chunks = transactionChunks(new Map([['changelog', records]]), 500);
    expect(chunks.map((c) => c[0]!.messages.map((m) => m.key.toString()))).toEqual([
      ['0', '1'],
      ['2', '3'],
      ['4', '5'],
      ['6', '7'],
      ['8', '9'],
    ]);
  });

  it('a topic split across calls, and a record larger than the limit goes alone', () => {
    const byTopic = new Map([
      ['events', [msg('e1', 100), msg('big', 2000), msg('e2', 100)]],
      ['changelog', [msg('c1', 100), { ...msg('t', 0), value: null }]],
    ]);
    const chunks = transactionChunks(byTopic, 400);
    expect(
      chunks.map((c) => c.map((t) => `${t.topic}:${t.messages.map((m) => m.key.toString()).join(',')}`)),
    ).toEqual([['events:e1'], ['events:big'], ['events:e2', 'changelog:c1,t']]);
  });

  it('an empty transaction sends nothing', () => {
    expect(transactionChunks(new Map(), 100)).toEqual([]);
  });
});
