import type { Command } from 'commander';
import { ConfigError } from '../../errors.js';
import { runReplay, type ReplayProgress } from '../../processor/replay.js';
import { action, commandContext, parseDuration } from '../context.js';

/** `earliest`, `changelog`, an ISO time, epoch ms, or a duration ago (`6h`). */
export function parseFrom(text: string, now = Date.now()): 'earliest' | 'changelog' | number {
  if (text === 'earliest' || text === 'changelog') return text;
  if (/^\d{10,}$/.test(text)) return Number(text);
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    const time = Date.parse(text);
    if (Number.isNaN(time)) throw new ConfigError('--from', `'${text}' is not a valid time`);
    return time;
  }
  return now - parseDuration(text, '--from');
}

interface ReplayFlags {
  from: string;
  warehouse?: boolean;
  rebuild?: boolean;
  group?: string;
  keepGroup?: boolean;
}

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description(
      'rebuild the Redis latest-state table from the compacted topic with a fresh consumer group (optionally re-load the warehouse)',
    )
    .option(
      '--from <when>',
      "'earliest', 'changelog' (restore from the table's changelog, then the topic from the processors' committed offsets), an ISO time, or a duration ago (6h)",
      'earliest',
    )
    .option('--warehouse', 're-load the warehouse too (idempotent: rows already there are skipped)')
    .option('--group <id>', 'consumer group of the replay (default: <CONSUMER_GROUP>-replay-<time>)')
    .option(
      '--rebuild',
      'empty the table first and rebuild it sharded for the topic’s current partitions (after the partition count changed, or from the old unsharded layout); needs --from earliest or changelog',
    )
    .option('--keep-group', 'keep the replay group afterwards (default: deleted)')
    .action(
      action(async (opts: ReplayFlags) => {
        const { config, logger } = commandContext({}, { logToStderr: true });
        const tty = process.stderr.isTTY === true;
        const from = parseFrom(opts.from);
        const report = (p: ReplayProgress) => {
          if (tty) {
            process.stderr.write(`\r\x1b[K${progressLine(p)}${p.done ? '\n' : ''}`);
          } else {
            logger.info({ event: 'replay.progress', ...p }, progressLine(p));
          }
        };
        const result = await runReplay(
          config,
          {
            from,
            warehouse: opts.warehouse ?? false,
            rebuild: opts.rebuild ?? false,
            ...(opts.group ? { groupId: opts.group } : {}),
            keepGroup: opts.keepGroup ?? false,
            onProgress: report,
            progressIntervalMs: tty ? 500 : 5000,
          },
          { logger: tty ? logger.child({}, { level: 'warn' }) : logger },
        );
        const seconds = (result.durationMs / 1000).toFixed(1);
        if (result.restored) {
          process.stdout.write(
            `restored ${result.restored.applied} vehicle states from ${result.restored.records} changelog records\n`,
          );
        }
        process.stdout.write(
          `replayed ${result.records} records in ${seconds} s into ${config.redis.prefix}* ` +
            `${opts.warehouse ? 'and the warehouse ' : ''}(group ${result.groupId})` +
            `${result.complete ? '' : ' — stopped idle before the end offsets (see logs)'}\n`,
        );
        await new Promise<void>((resolve) => logger.flush(() => resolve()));
        process.exit(result.complete ? 0 : 3);
      }),
    );
}

function progressLine(p: ReplayProgress): string {
  const n = (x: number) => x.toLocaleString('en-US');
  return `replay: ${n(p.records)} records, ${n(p.recordsPerSec)} rec/s, remaining lag ${n(p.remaining)}, ${(p.elapsedMs / 1000).toFixed(0)} s`;
}
