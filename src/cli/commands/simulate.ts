import { once } from 'node:events';
import { randomInt } from 'node:crypto';
import type { Command } from 'commander';
import { ConfigError } from '../../errors.js';
import { createPublisher } from '../../sources/publisher.js';
import { DEFAULT_AREA, LocalProjection, parseArea } from '../../sources/simulator/area.js';
import { Fleet } from '../../sources/simulator/fleet.js';
import { rushHourProfile, steadyProfile } from '../../sources/simulator/profile.js';
import { formatProgress, reportProgress } from '../../sources/simulator/progress.js';
import { Simulation } from '../../sources/simulator/simulation.js';
import { action, commandContext, parseDuration } from '../context.js';

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
  dryRun?: boolean;
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
        const fleet = new Fleet({
          seed,
          vehicles,
          area,
          intervalMs,
          startMs,
          profile,
          idPrefix: flags.prefix,
        });
        logger.info(
          {
            seed,
            vehicles,
            intervalMs,
            rate,
            profile: profile.name,
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

        const publisher = createPublisher(config, {
          logger,
          compression: flags.compression as 'gzip' | 'none',
        });
        await publisher.connect();
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
        let interrupted = false;
        const onSignal = () => {
          if (interrupted) process.exit(130);
          interrupted = true;
          simulation.stop();
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
        const began = Date.now();
        const result = await simulation.run();
        stopProgress();
        await publisher.close();
        const seconds = (Date.now() - began) / 1000;
        const summary = {
          ...result,
          seconds,
          ackedPerSec: Math.round(result.acked / Math.max(seconds, 0.001)),
          seed,
        };
        if (tty) process.stderr.write(`done: ${formatProgress(result, summary.ackedPerSec)}  seed ${seed}\n`);
        logger.info(summary, 'simulation finished');
        if (result.failed > 0) process.exitCode = 1;
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }),
    );
}
