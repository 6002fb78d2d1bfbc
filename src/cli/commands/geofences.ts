import type { Command } from 'commander';
import type { Kafka } from 'kafkajs';
import type { Config } from '../../config/config.js';
import type { Geofence } from '../../domain/geofence.js';
import { FleetError } from '../../errors.js';
import { GeofencePublisher } from '../../ingest/geofence-publisher.js';
import { createKafka } from '../../kafka/client.js';
import type { Logger } from '../../logger.js';
import { followGeofences } from '../../processor/geofence-table.js';
import { action, commandContext } from '../context.js';
import { formatTable } from '../format-table.js';
import { describeInvalid, readGeofenceFile } from '../geofence-file.js';

interface Session {
  config: Readonly<Config>;
  publisher: GeofencePublisher;
  /** The geofences now, read to the end of the topic. */
  current(): Promise<Geofence[]>;
}

const sorted = (all: Iterable<[string, Geofence]>) =>
  [...all].map(([, g]) => g).sort((a, b) => (a.id < b.id ? -1 : 1));

/** Opens the topic (created when missing) for one command, closes it afterwards. */
async function withGeofences<T>(run: (s: Session) => Promise<T>): Promise<T> {
  const { config, logger } = commandContext({}, { logToStderr: true });
  const kafka = createKafka(config.kafka, { logger, role: 'cli' });
  const publisher = new GeofencePublisher(kafka, { topic: config.topic, name: config.events.geofencesTopic });
  try {
    await publisher.connect();
    return await run({ config, publisher, current: () => readAll(kafka, config, logger) });
  } finally {
    await publisher.close();
  }
}

async function readAll(kafka: Kafka, config: Readonly<Config>, logger: Logger) {
  const followed = await followGeofences(kafka, config.events.geofencesTopic, {
    logger,
    stopWhenCaughtUp: true,
  });
  await followed.stop().catch(() => undefined);
  return sorted(followed.table.all());
}

/** `fleet geofences import|list|delete`: the compacted GEOFENCES_TOPIC, written as the API writes it. */
export function registerGeofences(program: Command): void {
  const geofences = program
    .command('geofences')
    .description('the geofences the events processor watches (GEOFENCES_TOPIC, also at /v1/geofences)');
  geofences
    .command('import <file>')
    .description(
      'import a .geojson FeatureCollection (or one Feature); ids from feature.id or properties.id. Any invalid feature: nothing is imported',
    )
    .option('--skip-invalid', 'import the valid features and report the others')
    .action(
      action(async (file: string, opts: { skipInvalid?: boolean }) => {
        const parsed = readGeofenceFile(file);
        if (parsed.invalid.length > 0) {
          process.stderr.write(`${describeInvalid(file, parsed.invalid)}\n`);
          if (!opts.skipInvalid)
            throw new FleetError(
              `${parsed.invalid.length} invalid feature(s) in ${file}: nothing imported (--skip-invalid imports the others)`,
            );
        }
        await withGeofences(async ({ config, publisher }) => {
          await publisher.publish(parsed.geofences.map((g) => ({ id: g.id, geofence: g })));
          process.stdout.write(
            `imported ${parsed.geofences.length} geofence(s) into ${config.events.geofencesTopic}` +
              (parsed.invalid.length > 0 ? `, skipped ${parsed.invalid.length} invalid\n` : '\n'),
          );
        });
      }),
    );
  geofences
    .command('list')
    .description('the geofences, ordered by id')
    .option('--json', 'print a GeoJSON FeatureCollection instead of a table')
    .action(
      action(async (opts: { json?: boolean }) => {
        const all = await withGeofences((s) => s.current());
        if (opts.json) {
          const collection = { type: 'FeatureCollection', features: all.map((g) => g.feature) };
          process.stdout.write(`${JSON.stringify(collection)}\n`);
          return;
        }
        const table = formatTable(all, [
          { header: 'ID', value: (g) => g.id },
          { header: 'NAME', value: (g) => g.name },
          {
            header: 'SHAPE',
            value: (g) =>
              g.shape.kind === 'circle' ? `circle ${g.shape.radiusM} m` : g.feature.geometry.type,
          },
          { header: 'LIMIT_KMH', value: (g) => g.speedLimitKmh, align: 'right' },
        ]);
        process.stdout.write(`${table}\n`);
      }),
    );
  geofences
    .command('delete <id>')
    .description('delete a geofence (a tombstone in GEOFENCES_TOPIC)')
    .action(
      action(async (id: string) => {
        await withGeofences(async ({ publisher, current }) => {
          if (!(await current()).some((g) => g.id === id))
            throw new FleetError(`geofence '${id}' does not exist`);
          await publisher.publish([{ id, geofence: null }]);
          process.stdout.write(`deleted ${id}\n`);
        });
      }),
    );
}
