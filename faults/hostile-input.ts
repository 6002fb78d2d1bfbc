import { createKafka } from '../src/kafka/client.js';
import { auditStores } from './audit.js';
import { freePort, waitFor } from '../src/local/processes.js';
import { silentLogger } from '../src/logger.js';
import { checkDeadLetters } from './checker.js';
import { endOffsets } from './cluster.js';
import { readDeadLetters, writeRaw } from './dead-letters.js';
import { fuzzRecords } from './fuzz.js';
import { hostileCorpus, type HostileRecord } from './hostile-corpus.js';
import { apiRequests, gatewayRequests, send, type HttpAnswer } from './hostile-http.js';
import { readRawTable } from './redis-table.js';
import { PROCESSOR_ENV } from './processor-crashes.js';
import { check, type Check, type Scenario } from './scenario.js';
import { Stage } from './stage.js';
import { positionAt, workloadPlan } from './workload.js';

/** Bad records interleaved with valid ones: `between` valid positions before each bad one. */
function interleave(bad: readonly HostileRecord[], valid: readonly HostileRecord[]): HostileRecord[] {
  const out: HostileRecord[] = [];
  const between = Math.max(1, Math.floor(valid.length / Math.max(1, bad.length)));
  let v = 0;
  for (const record of bad) {
    for (let i = 0; i < between && v < valid.length; i++) out.push(valid[v++]!);
    out.push(record);
  }
  while (v < valid.length) out.push(valid[v++]!);
  return out;
}

const answered = (answers: HttpAnswer[]) => {
  const fives = answers.filter((a) => a.status >= 500 || a.status === 0);
  const others = answers.filter((a) => a.status > 0 && (a.status < 400 || a.status >= 500));
  return { fives, others };
};

/**
 * 5. Hostile input: a hand-written corpus and a seeded fuzz stream of bad records, interleaved with
 * valid positions, written straight to the topic. Every bad record must reach the DLQ with a reason,
 * every valid one be processed, the processor stay alive. Then the query API gets garbage requests:
 * 4xx only, never 5xx, and nothing written anywhere.
 */
export const hostileInput: Scenario = {
  id: 'hostile-input',
  number: 5,
  title: 'Hostile input: corpus + fuzz of bad records among valid ones; garbage HTTP requests',
  async run(ctx) {
    const services = await ctx.services(1);
    const stage = new Stage(ctx, services, 'hostile', PROCESSOR_ENV);
    await stage.setUp();
    const kafka = createKafka(stage.config.kafka, { logger: silentLogger, role: 'faults-hostile' });
    const checks: Check[] = [];
    const notes: string[] = [];
    try {
      const now = Date.now();
      const prefix = 'hx-';
      const fuzzCount = ctx.quick ? 400 : 4000;
      const corpus = hostileCorpus(prefix, now);
      const bad = [...corpus, ...fuzzRecords({ seed: ctx.seed, count: fuzzCount, prefix, now })];
      const plan = workloadPlan({ total: ctx.quick ? 5000 : 40_000, vehicles: 200 });
      const valid: HostileRecord[] = Array.from({ length: plan.total }, (_, seq) => {
        const p = positionAt(plan, seq);
        return {
          name: `valid #${seq}`,
          key: Buffer.from(p.vehicleId),
          value: Buffer.from(JSON.stringify(p)),
          headers: { 'content-type': 'application/json' },
          expect: 'valid',
        };
      });
      const processor = stage.start(['process']);
      const write = (records: readonly HostileRecord[]) =>
        writeRaw(kafka, stage.config.topic.name, stage.config.topic.partitions, records);
      // Valid positions first, until the processor has joined and committed: a hostile stream
      // that reaches a processor not yet consuming tests nothing.
      const warmUp = await write(valid.slice(0, 100));
      await stage.committedOnce(120_000, processor);
      const written = [
        ...warmUp,
        ...(await ctx.faults.during('hostile records written to the topic', () =>
          write(interleave(bad, valid.slice(100))),
        )),
      ];
      const drainMs = await stage.drained(ctx.quick ? 120_000 : 300_000, processor);
      checks.push(
        check(
          'processor alive after the hostile stream',
          processor.alive,
          `drained ${drainMs} ms after the last write`,
        ),
      );
      const stopped = await processor.stop();
      checks.push(
        check('processor stopped cleanly on SIGTERM', stopped.graceful, JSON.stringify(stopped.exit)),
      );

      const expectedBad = new Map<string, string>();
      const expectedValid = new Map<string, string>();
      const rejected = written.filter((w) => w.rejected !== undefined);
      for (const w of written) {
        if (w.rejected !== undefined) continue;
        const expected = w.record.expect === 'dead-letter' ? expectedBad : expectedValid;
        expected.set(`${w.partition}:${w.offset}`, w.record.name);
      }
      checks.push(
        check(
          'the broker refused only bad records',
          rejected.every((w) => w.record.expect === 'dead-letter'),
          rejected.length === 0
            ? 'none refused'
            : rejected.map((w) => `${w.record.name}: ${w.rejected}`).join('; '),
        ),
      );
      const letters = await readDeadLetters(kafka, stage.config.topic.dlq, stage.config.topic.name);
      const dlq = checkDeadLetters(expectedBad, letters);
      checks.push(
        check(
          'every bad record dead-lettered once, with a reason',
          dlq.missing === 0 && dlq.unexpected === 0 && dlq.withoutReason === 0,
          `${dlq.expected} bad, ${dlq.found} dead letters: missing ${dlq.missing}, unexpected ${dlq.unexpected}, without reason ${dlq.withoutReason}, repeated ${dlq.repeated}${dlq.sample.length ? `; ${dlq.sample.join('; ')}` : ''}`,
        ),
      );

      const rows = await stage.rows();
      const copies = new Map<string, number>();
      for (const r of rows)
        copies.set(`${r.partition}:${r.offset}`, (copies.get(`${r.partition}:${r.offset}`) ?? 0) + 1);
      const missingValid = [...expectedValid.keys()].filter((k) => !copies.has(k));
      const badLanded = [...expectedBad.entries()].filter(([k]) => copies.has(k)).map(([, name]) => name);
      const rowDuplicates = [...copies.values()].reduce((sum, n) => sum + n - 1, 0);
      checks.push(
        check(
          'every valid record processed into the warehouse, no bad one',
          missingValid.length === 0 && badLanded.length === 0,
          `${expectedValid.size} valid, ${rows.length} rows: missing ${missingValid.length}, bad records stored ${badLanded.length}${badLanded.length ? ` (${badLanded.slice(0, 5).join('; ')})` : ''}`,
        ),
      );
      notes.push(
        `corpus: ${corpus.filter((r) => r.expect === 'dead-letter').length} bad cases and ${corpus.filter((r) => r.expect === 'valid').length} valid-but-nasty ones; fuzz: ${fuzzCount} records (seed ${ctx.seed}); ${valid.length} valid positions around them`,
      );

      checks.push(...(await auditStores(stage.config, rows)).checks);
      checks.push(
        ...(await ctx.faults.during('garbage HTTP requests', () =>
          garbageOverHttp(stage, rows.length, ctx.seed, ctx.quick ? 200 : 1000),
        )),
      );
      const delivered = expectedValid.size - missingValid.length + (dlq.expected - dlq.missing);
      return {
        figures: {
          produced: written.length,
          acknowledged: written.length - rejected.length,
          landed: delivered,
          lost: missingValid.length + dlq.missing,
          duplicated: rowDuplicates + dlq.repeated,
        },
        checks,
        notes,
      };
    } finally {
      await stage.tearDown();
    }
  },
};

const list = (xs: HttpAnswer[]) =>
  xs
    .slice(0, 6)
    .map((a) => `${a.request.name} → ${a.status || a.error}`)
    .join('; ');

function only4xx(what: string, answers: HttpAnswer[]): Check {
  const { fives, others } = answered(answers);
  return check(
    `${what} answers garbage with 4xx, never 5xx`,
    answers.length > 0 && fives.length === 0 && others.length === 0,
    `${answers.length} requests: ${fives.length} 5xx/no answer${fives.length ? ` (${list(fives)})` : ''}, ${others.length} other${others.length ? ` (${list(others)})` : ''}`,
  );
}

/**
 * `fleet serve` and `fleet gateway` on the scenario's stores and topic get garbage: 4xx only, and
 * neither the topic, the DLQ, the table nor the warehouse changes.
 */
async function garbageOverHttp(
  stage: Stage,
  rowsBefore: number,
  seed: number,
  fuzz: number,
): Promise<Check[]> {
  const [apiPort, gatewayPort] = [await freePort(), await freePort()];
  const topic = stage.config.topic;
  const before = [await endOffsets(stage.admin, topic.name), await endOffsets(stage.admin, topic.dlq)];
  const rawTable = async () =>
    JSON.stringify(
      await readRawTable(stage.config.redis.url, stage.config.redis.prefix, topic.partitions),
      (_k, v: unknown) => (v instanceof Map ? [...v] : v instanceof Set ? [...v] : v),
    );
  const stateBefore = await rawTable();
  const api = stage.start(['serve'], { PORT: String(apiPort), HOST: '127.0.0.1' });
  const gateway = stage.start(['gateway'], { GATEWAY_PORT: String(gatewayPort), HOST: '127.0.0.1' });
  const toApi: HttpAnswer[] = [];
  const toGateway: HttpAnswer[] = [];
  try {
    for (const port of [apiPort, gatewayPort]) {
      await waitFor(
        async () => (await send(port, { name: 'health', method: 'GET', path: '/healthz' })).status === 200,
        `HTTP server on ${port}`,
        120_000,
        250,
      );
    }
    for (const request of apiRequests()) toApi.push(await send(apiPort, request));
    for (const request of gatewayRequests('hx-', Date.now(), seed, fuzz))
      toGateway.push(await send(gatewayPort, request));
  } finally {
    await Promise.all([api.stop(15_000), gateway.stop(15_000)]);
  }
  const after = [await endOffsets(stage.admin, topic.name), await endOffsets(stage.admin, topic.dlq)];
  const stateAfter = await rawTable();
  const rowsAfter = (await stage.rows()).length;
  const sameState = stateBefore === stateAfter;
  return [
    only4xx('query API', toApi),
    only4xx('ingest gateway', toGateway),
    check(
      'API and gateway wrote nothing',
      before.join() === after.join() && sameState && rowsAfter === rowsBefore,
      `topic/DLQ end offsets ${before.join('/')} → ${after.join('/')}, Redis table (raw, every key)${sameState ? ' unchanged' : ' CHANGED'}, warehouse ${rowsBefore} → ${rowsAfter} rows`,
    ),
  ];
}
