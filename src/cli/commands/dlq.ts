import type { Command } from 'commander';
import { ConfigError } from '../../errors.js';
import { createKafka } from '../../kafka/client.js';
import { checkKafkaAccess } from '../../kafka/preflight.js';
import {
  countDeadLetters,
  followDeadLetters,
  parseSourceRef,
  printableBytes,
  readDeadLetters,
  sourceId,
  type StoredDeadLetter,
} from '../../sinks/dead-letter-reader.js';
import { replayDeadLetters } from '../../sinks/dead-letter-replay.js';
import { action, commandContext, type CommandContext } from '../context.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerDlq(program: Command): void {
  const dlq = program
    .command('dlq')
    .description(
      'read and replay the dead-letter topic (each source record once, however often it was dead-lettered)',
    );
  dlq
    .command('count')
    .description('unique dead letters, by error type and reason')
    .option('--json', 'print JSON')
    .action(
      action(async (opts: { json?: boolean }) => {
        const { kafka, config } = await connect();
        const counts = countDeadLetters(await readDeadLetters(kafka, config.topic.dlq));
        if (opts.json) return out(JSON.stringify(counts, null, 2));
        out(
          `${config.topic.dlq}: ${counts.total} dead letters (${counts.duplicates} duplicate copies ignored)`,
        );
        if (counts.unreadable > 0) out(`  ${counts.unreadable} records without x-dlq source headers ignored`);
        out('by error type:');
        for (const [k, n] of sorted(counts.byErrorType)) out(`  ${String(n).padStart(7)}  ${k}`);
        out('by reason:');
        for (const [k, n] of sorted(counts.byReason)) out(`  ${String(n).padStart(7)}  ${k}`);
      }),
    );
  dlq
    .command('tail')
    .description('the last dead letters (-n), optionally following new ones')
    .option('-n, --lines <n>', 'how many', '10')
    .option('-f, --follow', 'keep printing new dead letters until Ctrl-C')
    .option('--json', 'one JSON object per line')
    .action(
      action(async (opts: { lines: string; follow?: boolean; json?: boolean }) => {
        const n = Number(opts.lines);
        if (!Number.isInteger(n) || n < 0) throw new ConfigError('-n', `'${opts.lines}' is not a count`);
        const { kafka, config } = await connect();
        const print = (l: StoredDeadLetter) => out(opts.json ? JSON.stringify(letterJson(l)) : letterText(l));
        if (!opts.follow) {
          const letters = (await readDeadLetters(kafka, config.topic.dlq)).letters();
          for (const l of letters.slice(Math.max(0, letters.length - n))) print(l);
          return;
        }
        const stop = new AbortController();
        for (const s of ['SIGINT', 'SIGTERM'] as const) process.once(s, () => stop.abort());
        await followDeadLetters(
          kafka,
          config.topic.dlq,
          {
            onCaughtUp: (index) => {
              const letters = index.letters();
              for (const l of letters.slice(Math.max(0, letters.length - n))) print(l);
            },
            onNew: print,
          },
          stop.signal,
        );
      }),
    );
  dlq
    .command('show <source>')
    .description('the dead letter of one source record: <partition>:<offset> or <topic>:<partition>:<offset>')
    .option('--json', 'print JSON')
    .action(
      action(async (source: string, opts: { json?: boolean }) => {
        const ref = parseSourceRef(source, '<source>');
        const { kafka, config } = await connect();
        const found = (await readDeadLetters(kafka, config.topic.dlq)).find(ref);
        if (found.length === 0) {
          process.stderr.write(`fleet: no dead letter of source record ${source} in ${config.topic.dlq}\n`);
          process.exitCode = 4;
          return;
        }
        if (opts.json) return out(JSON.stringify(found.map(letterJson), null, 2));
        out(found.map(letterText).join('\n'));
      }),
    );
  dlq
    .command('replay')
    .description(
      're-drive selected dead letters onto the position topic; letters replayed before are skipped',
    )
    .option('--reason <text>', 'letters whose reason contains this text (repeatable)', collect)
    .option('--error-type <type>', 'letters of this error type, e.g. ValidationError (repeatable)', collect)
    .option('--source <ref>', '<partition>:<offset> or <topic>:<partition>:<offset> (repeatable)', collect)
    .option('--all', 'every dead letter (needed when no other selection is given)')
    .option('--dry-run', 'only say what would be replayed')
    .option('--json', 'print JSON')
    .action(
      action(
        async (opts: {
          reason?: string[];
          errorType?: string[];
          source?: string[];
          all?: boolean;
          dryRun?: boolean;
          json?: boolean;
        }) => {
          if (!opts.all && !opts.reason && !opts.errorType && !opts.source)
            throw new ConfigError('--reason/--error-type/--source', 'select what to replay, or pass --all');
          const sources = (opts.source ?? []).map((s) => parseSourceRef(s, '--source'));
          const { kafka, config } = await connect();
          const result = await replayDeadLetters(kafka, {
            dlqTopic: config.topic.dlq,
            targetTopic: config.topic.name,
            selection: { reasons: opts.reason ?? [], errorTypes: opts.errorType ?? [], sources },
            dryRun: opts.dryRun ?? false,
            ...(config.topic.replicationFactor ? { replicationFactor: config.topic.replicationFactor } : {}),
          });
          const ids = (ls: StoredDeadLetter[]) => ls.map((l) => sourceId(l.source));
          if (opts.json) {
            return out(
              JSON.stringify(
                {
                  dryRun: opts.dryRun ?? false,
                  selected: result.selected,
                  replayed: ids(result.replayed),
                  alreadyReplayed: ids(result.alreadyReplayed),
                  truncated: ids(result.truncated),
                },
                null,
                2,
              ),
            );
          }
          const verb = opts.dryRun ? 'would replay' : 'replayed';
          out(
            `${result.selected} dead letters selected: ${verb} ${result.replayed.length} onto ${config.topic.name}, ` +
              `${result.alreadyReplayed.length} already replayed, ${result.truncated.length} truncated (not replayable)`,
          );
          for (const id of ids(result.replayed)) out(`  ${verb} ${id}`);
          for (const id of ids(result.truncated))
            out(`  skipped ${id}: stored value/key/headers were truncated`);
        },
      ),
    );
}

async function connect(): Promise<CommandContext & { kafka: ReturnType<typeof createKafka> }> {
  const ctx = commandContext({}, { logToStderr: true });
  await checkKafkaAccess(ctx.config.kafka);
  return { ...ctx, kafka: createKafka(ctx.config.kafka, { logger: ctx.logger, role: 'dlq' }) };
}

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

function sorted(counts: Record<string, number>): [string, number][] {
  return Object.entries(counts).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

export function letterJson(l: StoredDeadLetter) {
  return {
    source: l.source,
    reason: l.reason,
    errorType: l.errorType,
    failedAt: l.failedAt,
    copies: l.copies,
    truncated: l.truncated,
    key: printableBytes(l.key),
    value: printableBytes(l.value),
    headers: Object.fromEntries(Object.entries(l.headers).map(([k, v]) => [k, printableBytes(v)])),
    dlq: l.dlq,
  };
}

export function letterText(l: StoredDeadLetter): string {
  const bytes = (label: string, b: Buffer | null) => {
    const p = printableBytes(b);
    return p === null
      ? `${label}: (null)`
      : `${label}${p.encoding === 'base64' ? ' (base64)' : ''}: ${p.text}`;
  };
  const { topic, partition, offset } = l.source;
  return [
    `source: topic ${topic} partition ${partition} offset ${offset}` +
      (l.copies > 1 ? ` (dead-lettered ${l.copies} times)` : ''),
    `error type: ${l.errorType}`,
    `reason: ${l.reason}`,
    ...(l.failedAt ? [`failed at: ${l.failedAt}`] : []),
    bytes('key', l.key),
    bytes('value', l.value) + (l.truncated ? ' [truncated]' : ''),
    '',
  ].join('\n');
}
