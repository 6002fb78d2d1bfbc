import type { Command } from 'commander';
import type { HistoryRow, VehicleSummary } from '../../sinks/warehouse-reader.js';
import { apiGet, type ApiTarget } from '../api-client.js';
import { action, commandContext, parseDuration } from '../context.js';
import { formatTable } from '../format-table.js';

/** A vehicle as the API answers it (GET /v1/vehicles/:id). */
interface VehicleAnswer {
  vehicleId: string;
  ts: number;
  lat: number;
  lon: number;
  speed?: number;
  heading?: number;
  altitude?: number;
  accuracy?: number;
  battery?: number;
  attributes?: Record<string, unknown>;
  ageMs: number;
  stale: boolean;
  distanceM?: number;
}

export interface QueryFlags {
  url?: string;
  apiKey?: string;
  json?: boolean;
}

export function target(flags: QueryFlags): ApiTarget {
  const { config } = commandContext(
    { ...(flags.url ? { API_URL: flags.url } : {}), ...(flags.apiKey ? { API_KEY: flags.apiKey } : {}) },
    { logToStderr: true },
  );
  return {
    url: config.api.client.url,
    ...(config.api.client.apiKey ? { apiKey: config.api.client.apiKey } : {}),
  };
}

export function withApiOptions(command: Command): Command {
  return command
    .option('--url <url>', 'query API base URL (API_URL, default http://127.0.0.1:8080)')
    .option('--api-key <key>', 'API key sent as x-api-key (API_KEY)')
    .option('--json', 'print the raw JSON answer');
}

export const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
const fixed = (n: number | null | undefined, digits: number) =>
  typeof n === 'number' ? n.toFixed(digits) : null;

export function formatAge(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172_800) return `${(s / 3600).toFixed(1)}h`;
  return `${Math.round(s / 86_400)}d`;
}

function print(text: string): void {
  process.stdout.write(`${text}\n`);
}

export function vehicleTable(v: VehicleAnswer): string {
  const rows: [string, string | number | null | undefined][] = [
    ['vehicle', v.vehicleId],
    ['time', `${iso(v.ts)} (${formatAge(v.ageMs)} ago${v.stale ? ', STALE' : ''})`],
    ['lat, lon', `${v.lat.toFixed(6)}, ${v.lon.toFixed(6)}`],
    ['speed km/h', fixed(v.speed, 1)],
    ['heading °', fixed(v.heading, 0)],
    ['altitude m', fixed(v.altitude, 0)],
    ['accuracy m', fixed(v.accuracy, 0)],
    ['battery %', fixed(v.battery, 0)],
    ...Object.entries(v.attributes ?? {}).map(([k, val]): [string, string] => [k, JSON.stringify(val)]),
  ];
  return formatTable(rows, [
    { header: 'field', value: (r) => r[0] },
    { header: 'value', value: (r) => r[1], align: 'left' },
  ]);
}

export function nearbyTable(vehicles: readonly VehicleAnswer[]): string {
  return formatTable(vehicles, [
    { header: 'vehicle', value: (v) => v.vehicleId },
    { header: 'distance m', value: (v) => fixed(v.distanceM, 1), align: 'right' },
    { header: 'lat', value: (v) => v.lat.toFixed(6), align: 'right' },
    { header: 'lon', value: (v) => v.lon.toFixed(6), align: 'right' },
    { header: 'speed', value: (v) => fixed(v.speed, 1), align: 'right' },
    { header: 'age', value: (v) => formatAge(v.ageMs), align: 'right' },
    { header: 'stale', value: (v) => (v.stale ? 'yes' : 'no') },
  ]);
}

export function historyTable(positions: readonly Omit<HistoryRow, 'vehicleId'>[]): string {
  return formatTable(positions, [
    { header: 'time', value: (p) => iso(p.ts) },
    { header: 'lat', value: (p) => p.lat.toFixed(6), align: 'right' },
    { header: 'lon', value: (p) => p.lon.toFixed(6), align: 'right' },
    { header: 'speed', value: (p) => fixed(p.speed, 1), align: 'right' },
    { header: 'heading', value: (p) => fixed(p.heading, 0), align: 'right' },
  ]);
}

export function summaryTable(s: VehicleSummary): string {
  const minutes = (sec: number) => `${(sec / 60).toFixed(1)} min`;
  const rows: [string, string | number | null][] = [
    ['window', `${iso(s.from)} .. ${iso(s.to)}`],
    ['positions', s.positions],
    ['distance', `${(s.distanceM / 1000).toFixed(3)} km`],
    ['moving', minutes(s.movingS)],
    ['stopped', minutes(s.stoppedS)],
    ['avg speed', s.avgSpeedKmh === null ? null : `${s.avgSpeedKmh.toFixed(1)} km/h`],
    ['max speed', s.maxSpeedKmh === null ? null : `${s.maxSpeedKmh.toFixed(1)} km/h`],
    ['trips', s.trips],
    ['stops', s.stops],
  ];
  return formatTable(rows, [
    { header: 'summary', value: (r) => r[0] },
    { header: s.vehicleId, value: (r) => r[1], align: 'left' },
  ]);
}

/** A window ending now (or at --until), `--since` long, as epoch ms. */
function timeWindow(since: string, until: string | undefined): { from: number; to: number } {
  const to = until ? Date.now() - parseDuration(until, '--until') : Date.now();
  return { from: to - parseDuration(since, '--since'), to };
}

/** `fleet where`, `fleet nearby`, `fleet history`, `fleet summary`: the query API as tables. */
export function registerQuery(program: Command): void {
  withApiOptions(program.command('where').argument('<id>', 'vehicle id'))
    .description('Latest position of a vehicle (GET /v1/vehicles/:id)')
    .action(
      action(async (id: string, flags: QueryFlags) => {
        const v = await apiGet<VehicleAnswer>(target(flags), `v1/vehicles/${encodeURIComponent(id)}`);
        print(flags.json ? JSON.stringify(v, null, 2) : vehicleTable(v));
      }),
    );

  withApiOptions(program.command('nearby'))
    .description('Vehicles near a point, nearest first (GET /v1/vehicles/nearby)')
    .requiredOption('--lat <deg>', 'latitude of the centre')
    .requiredOption('--lon <deg>', 'longitude of the centre')
    .requiredOption('--radius <m>', 'radius in metres')
    .option('--limit <n>', 'most vehicles', '20')
    .action(
      action(async (flags: QueryFlags & { lat: string; lon: string; radius: string; limit: string }) => {
        const answer = await apiGet<{ vehicles: VehicleAnswer[] }>(target(flags), 'v1/vehicles/nearby', {
          lat: flags.lat,
          lon: flags.lon,
          radius_m: flags.radius,
          limit: flags.limit,
        });
        if (flags.json) return print(JSON.stringify(answer, null, 2));
        print(answer.vehicles.length === 0 ? 'no vehicle in that radius' : nearbyTable(answer.vehicles));
      }),
    );

  withApiOptions(program.command('history').argument('<id>', 'vehicle id'))
    .description('Positions of a vehicle from the warehouse (GET /v1/vehicles/:id/history, at most 24 h)')
    .option('--since <duration>', 'how far back (e.g. 30m, 2h, 24h)', '1h')
    .option('--until <duration>', 'end this long ago (default: now)')
    .option('--limit <n>', 'most positions', '1000')
    .action(
      action(async (id: string, flags: QueryFlags & { since: string; until?: string; limit: string }) => {
        const { from, to } = timeWindow(flags.since, flags.until);
        const answer = await apiGet<{ positions: Omit<HistoryRow, 'vehicleId'>[]; truncated: boolean }>(
          target(flags),
          `v1/vehicles/${encodeURIComponent(id)}/history`,
          { from, to, limit: flags.limit },
        );
        if (flags.json) return print(JSON.stringify(answer, null, 2));
        if (answer.positions.length === 0)
          return print(`no positions of ${id} between ${iso(from)} and ${iso(to)}`);
        print(historyTable(answer.positions));
        if (answer.truncated) print(`(first ${answer.positions.length} positions; raise --limit for more)`);
      }),
    );

  withApiOptions(program.command('summary').argument('<id>', 'vehicle id'))
    .description('Distance, moving/stopped time, speeds, trips and stops (GET /v1/vehicles/:id/summary)')
    .option('--since <duration>', 'how far back (at most 24h)', '24h')
    .option('--until <duration>', 'end this long ago (default: now)')
    .action(
      action(async (id: string, flags: QueryFlags & { since: string; until?: string }) => {
        const { from, to } = timeWindow(flags.since, flags.until);
        const s = await apiGet<VehicleSummary>(
          target(flags),
          `v1/vehicles/${encodeURIComponent(id)}/summary`,
          {
            from,
            to,
          },
        );
        print(flags.json ? JSON.stringify(s, null, 2) : summaryTable(s));
      }),
    );
}
