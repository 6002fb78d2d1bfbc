import type { Command } from 'commander';
import { untilSignal } from '../../app/until-signal.js';
import { ConfigError } from '../../errors.js';
import { EVENT_TYPES, isEventType, type VehicleEvent } from '../../domain/vehicle-event.js';
import { apiGet, apiStream } from '../api-client.js';
import { action } from '../context.js';
import { iso, target, withApiOptions, type QueryFlags } from './query.js';

interface EventsFlags extends QueryFlags {
  follow?: boolean;
  vehicle?: string;
  type?: string;
  limit: string;
}

const COMMON = new Set(['id', 'type', 'vehicleId', 'ts']);

/** One line per event: time, type, vehicle, then its own fields as key=value. */
export function eventLine(e: VehicleEvent): string {
  const fields = Object.entries(e)
    .filter(([k]) => !COMMON.has(k))
    .map(
      ([k, v]) =>
        `${k}=${typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(k === 'lat' || k === 'lon' ? 5 : 1) : String(v)}`,
    );
  return [iso(e.ts), e.type.padEnd(14), e.vehicleId, ...fields].join('  ');
}

function checkedTypes(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const bad = text.split(',').filter((t) => !isEventType(t.trim()));
  if (bad.length > 0)
    throw new ConfigError('--type', `unknown ${bad.join(', ')} (one of ${EVENT_TYPES.join(', ')})`);
  return text;
}

/**
 * `fleet events`: the latest events (GET /v1/events) or, with --follow, every new one as it is
 * committed, through the API's SSE stream /v1/events/stream (only API_URL and the key needed).
 */
export function registerEvents(program: Command): void {
  withApiOptions(program.command('events'))
    .description(
      'vehicle events: the latest (GET /v1/events) or, with --follow, live (SSE /v1/events/stream)',
    )
    .option('-f, --follow', 'print new events as they happen until Ctrl-C')
    .option('--vehicle <id>', 'only this vehicle')
    .option('--type <types>', `only these types, comma-separated (${EVENT_TYPES.join(', ')})`)
    .option('--limit <n>', 'without --follow: most events, newest first', '50')
    .action(
      action(async (flags: EventsFlags) => {
        const api = target(flags);
        const type = checkedTypes(flags.type);
        const print = (e: VehicleEvent) =>
          process.stdout.write(`${flags.json ? JSON.stringify(e) : eventLine(e)}\n`);
        if (!flags.follow) {
          const answer = await apiGet<{ events: VehicleEvent[] }>(api, 'v1/events', {
            vehicleId: flags.vehicle,
            type,
            limit: flags.limit,
          });
          if (answer.events.length === 0 && !flags.json) process.stderr.write('no events\n');
          for (const e of answer.events) print(e);
          return;
        }
        const stop = new AbortController();
        void untilSignal().then(() => stop.abort());
        process.stderr.write(`following ${api.url}/v1/events/stream (Ctrl-C stops)\n`);
        await apiStream(
          api,
          'v1/events/stream',
          { vehicleId: flags.vehicle, type },
          (name, data) => name === 'vehicle_event' && print(data as VehicleEvent),
          stop.signal,
        );
        if (!stop.signal.aborted) throw new ConfigError('--url', 'the API ended the stream (stopped?)');
      }),
    );
}
