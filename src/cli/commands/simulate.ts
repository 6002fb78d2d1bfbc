import { once } from 'node:events';
import { randomInt } from 'node:crypto';
import type { Command } from 'commander';
import { runApp } from '../../app/app.js';
import { untilSignal } from '../../app/until-signal.js';
import { emfSettings } from '../../config/config.js';
import { startServiceEmf } from '../../emf-services.js';
import { defaultRegistry } from '../../metrics.js';
import { ConfigError } from '../../errors.js';
import { DEFAULT_AREA, LocalProjection, parseArea } from '../../ingest/simulator/area.js';
import { Fleet } from '../../ingest/simulator/fleet.js';
import { rushHourProfile, steadyProfile } from '../../ingest/simulator/profile.js';
import { formatProgress, reportProgress } from '../../ingest/simulator/progress.js';
import { parseScenario, SCENARIO_PRESETS } from '../../ingest/simulator/scenario.js';
import { Simulation } from '../../ingest/simulator/simulation.js';
import { action, commandContext, parseDuration } from '../context.js';
import type { Config } from '../../config/config.js';
import type { BoundingBox } from '../../domain/geo.js';
import { publishGeofences } from '../../ingest/geofence-publisher.js';
import { createKafka } from '../../kafka/client.js';
import type { Logger } from '../../logger.js';
import { describeInvalid, readGeofenceFile } from '../geofence-file.js';

interface SimulateFlags {
  vehicles: string;
  interval: string;
  duration?: string;
  seed?: string;
  area: string;
  profile: string;
  dayLength: string;
  start?: string;
  rate?: string;
  prefix: string;
  compression: string;
  scenario: string;
  dryRun?: boolean;
  geofences?: string;
}

function positiveInt(text: string, flag: string, max = 10_000_000): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new ConfigError(flag, `'${text}' must be an integer in 1..${max}`);
  return n;
}

export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description('simulate a fleet driving through a city and publish its positions to Kafka')
    .option('--vehicles <n>', 'number of vehicles', '5')
    .option('--interval <duration>', 'report interval of a driving vehicle', '5s')
    .option('--duration <duration>', 'stop after this much time (default: until Ctrl-C)')
    .option('--seed <n>', 'seed of the simulation: same seed (and --start), same positions (default: random)')
    .option(
      '--area <name|bbox>',
      'preset (berlin, paris, london, nyc, sf) or minLon,minLat,maxLon,maxLat',
      DEFAULT_AREA,
    )
    .option(
      '--profile <name>',
      'steady | rush-hour (share of driving vehicles follows a day curve)',
      'steady',
    )
    .option('--day-length <duration>', 'rush-hour: real time one simulated day takes', '24h')
    .option('--start <iso-time>', 'simulated start time (default: now)')
    .option('--rate <msgs/s>', 'benchmark mode: a target total rate; vehicles default to rate/10')
    .option('--prefix <text>', 'vehicle id prefix', 'sim-')
    .option('--compression <codec>', 'gzip | none', 'gzip')
    .option(
      '--geofences <file|demo>',
      'first publish these geofences (a .geojson file, or `demo`: a built-in set over --area) to GEOFENCES_TOPIC',
    )
    .option(
      '--scenario <spec>',
      `events on purpose: ${Object.keys(SCENARIO_PRESETS).join(' | ')} or speeders=N,silent=M (speeders report 150 km/h half of each minute; silent vehicles stop after 20 s)`,
      'none',
    )
    .option(
      '--dry-run',
      'print the positions as JSON lines instead of publishing (as fast as possible; needs --duration)',
    )
    .action(
      action(async (flags: SimulateFlags, command: Command) => {
        const { config, logger } = commandContext({}, { logToStderr: Boolean(flags.dryRun) });
        const rate = flags.rate === undefined ? undefined : positiveInt(flags.rate, '--rate');
        const vehiclesGiven = command.getOptionValueSource('vehicles') === 'cli';
        const vehicles =
          rate && !vehiclesGiven
            ? Math.ceil(rate / 10)
            : positiveInt(flags.vehicles, '--vehicles', 1_000_000);
        const intervalMs = rate
          ? Math.max(1, Math.round((vehicles * 1000) / rate))
          : parseDuration(flags.interval, '--interval');
        if (intervalMs < 1) throw new ConfigError('--interval', 'must be at least 1ms');
        const durationMs =
          flags.duration === undefined ? undefined : parseDuration(flags.duration, '--duration');
        const seed =
          flags.seed === undefined ? randomInt(2 ** 31) : positiveInt(flags.seed, '--seed', 2 ** 32 - 1);
        const area = parseArea(flags.area);
        const startMs = flags.start === undefined ? Date.now() : Date.parse(flags.start);
        if (Number.isNaN(startMs)) throw new ConfigError('--start', `'${flags.start}' is not an ISO time`);
        if (!['steady', 'rush-hour'].includes(flags.profile))
          throw new ConfigError('--profile', 'steady or rush-hour');
        if (!['gzip', 'none'].includes(flags.compression))
          throw new ConfigError('--compression', 'gzip or none');
        const profile =
          flags.profile === 'rush-hour'
            ? rushHourProfile({
                utcOffsetHours: new LocalProjection(area).utcOffsetHours(),
                startMs,
                dayLengthMs: parseDuration(flags.dayLength, '--day-length'),
              })
            : steadyProfile;
        const scenario = parseScenario(flags.scenario);
        const fleet = new Fleet({
          seed,
          vehicles,
          area,
          intervalMs,
          startMs,
          profile,
          idPrefix: flags.prefix,
          scenario,
        });
        logger.info(
          {
            seed,
            vehicles,
            intervalMs,
            rate,
            profile: profile.name,
            scenario,
            area,
            start: new Date(startMs).toISOString(),
          },
          'simulation starting',
        );

        if (flags.dryRun) {
          if (durationMs === undefined) throw new ConfigError('--duration', 'is required with --dry-run');
          for (let t = startMs; t < startMs + durationMs;) {
            t = Math.min(startMs + durationMs, t + 60_000);
            const lines = fleet.advanceTo(t - 1).map((p) => JSON.stringify(p));
            if (lines.length > 0 && !process.stdout.write(`${lines.join('\n')}\n`))
              await once(process.stdout, 'drain');
          }
          return;
        }

        if (flags.geofences !== undefined)
          await publishSimulationGeofences(config, logger, flags.geofences, area);
        await runApp(config, logger, async (app) => {
          const publisher = await app.publisher({ compression: flags.compression as 'gzip' | 'none' });
          app.own(
            'emf',
            startServiceEmf('simulator', { ...emfSettings(config), registry: defaultRegistry, logger }),
            (emf) => emf?.stop(),
          );
          const simulation = new Simulation({
            fleet,
            publisher,
            logger,
            clockOffsetMs: startMs - Date.now(),
            tickMs: rate ? 5 : Math.min(100, intervalMs),
            ...(durationMs !== undefined ? { durationMs } : {}),
            maxOutstanding: rate ? Math.max(50_000, rate) : 100_000,
          });
          const tty = Boolean(process.stderr.isTTY);
          const stopProgress = reportProgress({ progress: () => simulation.progress(), tty, logger });
          // Ctrl-C stops the simulation, which then waits for what it published; twice exits at once.
          void untilSignal().then(() => simulation.stop());
          const began = Date.now();
          const result = await simulation.run();
          stopProgress();
          const seconds = (Date.now() - began) / 1000;
          const summary = {
            ...result,
            seconds,
            ackedPerSec: Math.round(result.acked / Math.max(seconds, 0.001)),
            seed,
          };
          if (tty)
            process.stderr.write(`done: ${formatProgress(result, summary.ackedPerSec)}  seed ${seed}\n`);
          logger.info(summary, 'simulation finished');
          if (result.failed > 0) process.exitCode = 1;
        });
      }),
    );
}

/** `--geofences`: every feature must be valid (nothing is published otherwise). */
async function publishSimulationGeofences(
  config: Readonly<Config>,
  logger: Logger,
  file: string,
  area: BoundingBox,
): Promise<void> {
  const { geofences, invalid } = readGeofenceFile(file, area);
  if (invalid.length > 0)
    throw new ConfigError(
      '--geofences',
      `${invalid.length} invalid feature(s):\n${describeInvalid(file, invalid)}`,
    );
  const kafka = createKafka(config.kafka, { logger, role: 'simulator' });
  await publishGeofences(
    kafka,
    { topic: config.topic, name: config.events.geofencesTopic },
    geofences.map((g) => ({ id: g.id, geofence: g })),
  );
  logger.info({ geofences: geofences.length, topic: config.events.geofencesTopic }, 'geofences published');
}
