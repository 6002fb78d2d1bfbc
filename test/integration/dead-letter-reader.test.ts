import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import type { Kafka } from 'kafkajs';
import type { DeadLetter } from '../../src/domain/records.js';
import {
  countDeadLetters,
  followDeadLetters,
  readDeadLetters,
  type StoredDeadLetter,
} from '../../src/sinks/dead-letter-reader.js';
import { replayDeadLetters, REPLAY_HEADERS } from '../../src/sinks/dead-letter-replay.js';
import { createKafkaDeadLetterSink, type DeadLetterSink } from '../../src/sinks/dead-letter-sink.js';
import { cliEnv } from '../support/cli-process.js';
import { createTestTopics, deleteTestTopics, eventually, testConfig, testKafka } from '../support/env.js';
import { readTopic } from '../support/read-topic.js';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');
const garbage = Buffer.from([0xff, 0xfe, 0x00, 0x9c]);

describe('fleet dlq on the real broker: dedupe by source record, idempotent replay', () => {
  const config = testConfig();
  let kafka: Kafka;
  let sink: DeadLetterSink;
  const letter = (partition: number, offset: string, rest: Partial<DeadLetter>): DeadLetter => ({
    topic: config.topic.name,
    partition,
    offset,
    key: Buffer.from(`veh-${partition}`),
    value: Buffer.from(`{"vehicleId":"veh-${partition}","lat":91}`),
    reason: 'lat: must be <= 90',
    errorType: 'ValidationError',
    ...rest,
  });
  const a = letter(0, '10', {
    value: garbage,
    reason: 'value is not valid JSON',
    errorType: 'DecodeError',
    headers: { 'content-type': 'application/json' },
  });
  const b = letter(1, '20', { headers: { 'trace-id': 'tb' } });
  const c = letter(2, '30', { reason: 'ts: must be an integer' });
  const cli = async (...args: string[]) =>
    (await run(process.execPath, ['bin/fleet.js', 'dlq', ...args], { cwd: root, env: cliEnv(config) }))
      .stdout;

  beforeAll(async () => {
    await createTestTopics(config);
    kafka = testKafka(config);
    sink = createKafkaDeadLetterSink({ kafka, topic: config.topic.dlq, registry: new Registry() });
    await sink.write([a, b, c]);
    // A processor that crashed before committing dead-letters the same records again.
    await sink.write([a, b]);
  });

  afterAll(async () => {
    await sink?.close();
    await deleteTestTopics(config);
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [`${config.topic.dlq}.replayed`] }).catch(() => undefined);
    await admin.disconnect();
  });

  it('reads each source record once, counting the copies', async () => {
    const index = await readDeadLetters(kafka, config.topic.dlq);
    expect(index.records).toBe(5);
    const letters = index.letters();
    expect(letters.map((l) => `${l.source.partition}:${l.source.offset}:${l.copies}`)).toEqual([
      '0:10:2',
      '1:20:2',
      '2:30:1',
    ]);
    expect(Buffer.compare(letters[0]!.value!, garbage)).toBe(0);
    expect(letters[0]!.headers['content-type']?.toString()).toBe('application/json');
    expect(countDeadLetters(index)).toEqual({
      total: 3,
      duplicates: 2,
      unreadable: 0,
      byReason: { 'value is not valid JSON': 1, 'lat: must be <= 90': 1, 'ts: must be an integer': 1 },
      byErrorType: { DecodeError: 1, ValidationError: 2 },
    });
  });

  it('count, tail and show through the CLI deduplicate too', async () => {
    const counts = JSON.parse(await cli('count', '--json'));
    expect(counts).toMatchObject({
      total: 3,
      duplicates: 2,
      byErrorType: { DecodeError: 1, ValidationError: 2 },
    });

    const countText = await cli('count');
    expect(countText).toContain(`${config.topic.dlq}: 3 dead letters (2 duplicate copies ignored)`);
    expect(countText).toMatch(/\s2 {2}ValidationError\n/);

    const tail = (await cli('tail', '-n', '2', '--json'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(tail.map((l: { source: { offset: string } }) => l.source.offset)).toEqual(['20', '30']);

    const [shown, ...more] = JSON.parse(await cli('show', '1:20', '--json'));
    expect(more).toEqual([]);
    expect(shown).toMatchObject({
      source: { topic: config.topic.name, partition: 1, offset: '20' },
      reason: 'lat: must be <= 90',
      errorType: 'ValidationError',
      copies: 2,
      value: { encoding: 'utf8', text: '{"vehicleId":"veh-1","lat":91}' },
    });

    const text = await cli('show', `${config.topic.name}:0:10`);
    expect(text).toContain(
      `source: topic ${config.topic.name} partition 0 offset 10 (dead-lettered 2 times)`,
    );
    expect(text).toContain('error type: DecodeError');
    expect(text).toContain(`value (base64): ${garbage.toString('base64')}`);

    const missing = await run(process.execPath, ['bin/fleet.js', 'dlq', 'show', '7:7'], {
      cwd: root,
      env: cliEnv(config),
    }).catch((e: { code: number; stderr: string }) => e);
    expect(missing).toMatchObject({
      code: 4,
      stderr: expect.stringMatching(/no dead letter of source record 7:7/),
    });
  });

  it('follows new dead letters, skipping another copy of a known one', async () => {
    const stop = new AbortController();
    const seen: StoredDeadLetter[] = [];
    let initial = -1;
    const following = followDeadLetters(
      kafka,
      config.topic.dlq,
      { onCaughtUp: (index) => (initial = index.letters().length), onNew: (l) => seen.push(l) },
      stop.signal,
    );
    await eventually(() => initial >= 0, 30_000, 50);
    await sink.write([c, letter(0, '40', { reason: 'speed: must be >= 0' })]);
    await eventually(() => seen.length >= 1, 20_000, 50);
    await new Promise((r) => setTimeout(r, 500));
    stop.abort();
    await following;
    expect(initial).toBe(3);
    expect(seen.map((l) => `${l.source.partition}:${l.source.offset}`)).toEqual(['0:40']);
  });

  it('replays a selection once: original key and headers, a replay header, nothing twice', async () => {
    const options = {
      dlqTopic: config.topic.dlq,
      targetTopic: config.topic.name,
      selection: { errorTypes: ['ValidationError'], reasons: ['lat', 'ts:'] },
    };
    const dry = await replayDeadLetters(kafka, { ...options, dryRun: true });
    expect(dry.replayed.map((l) => l.source.offset)).toEqual(['20', '30']);
    expect(await readTopic(config)).toEqual([]);

    const first = await replayDeadLetters(kafka, options);
    expect(first.selected).toBe(2);
    expect(first.replayed.map((l) => l.source.offset)).toEqual(['20', '30']);
    const records = await readTopic(config, { expected: 2 });
    expect(records.map((r) => r.key).sort()).toEqual(['veh-1', 'veh-2']);
    const replayedB = records.find((r) => r.key === 'veh-1')!;
    expect(replayedB.value).toBe('{"vehicleId":"veh-1","lat":91}');
    expect(replayedB.headers['trace-id']).toBe('tb');
    expect(replayedB.headers[REPLAY_HEADERS.source]).toBe(`${config.topic.name}:1:20`);
    expect(Object.keys(replayedB.headers).filter((h) => h.startsWith('x-dlq-'))).toEqual([]);

    const second = await replayDeadLetters(kafka, options);
    expect(second.replayed).toEqual([]);
    expect(second.alreadyReplayed.map((l) => l.source.offset)).toEqual(['20', '30']);

    // Through the CLI: only the letters not replayed before go out.
    const all = JSON.parse(await cli('replay', '--all', '--json'));
    expect(all.replayed).toEqual([`${config.topic.name}:0:10`, `${config.topic.name}:0:40`]);
    expect(all.alreadyReplayed).toHaveLength(2);
    const again = JSON.parse(await cli('replay', '--source', '1:20', '--source', '0:10', '--json'));
    expect(again).toMatchObject({ selected: 2, replayed: [] });
    const after = await readTopic(config);
    expect(after).toHaveLength(4);
    expect(
      after.filter((r) => r.headers[REPLAY_HEADERS.source] === `${config.topic.name}:1:20`),
    ).toHaveLength(1);
  });
});
