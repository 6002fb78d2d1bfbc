import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GeofencePublisher } from '../../src/ingest/geofence-publisher.js';
import { silentLogger } from '../../src/logger.js';
import { followGeofences } from '../../src/processor/geofence-table.js';
import { cliEnv, runCli } from '../support/cli-process.js';
import { createTestTopics, testConfig, testKafka, uniqueSuffix } from '../support/env.js';
import { squareFeature } from '../support/events-env.js';

const dir = mkdtempSync(path.join(tmpdir(), 'fleet-geofences-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('fleet geofences and fleet simulate --geofences (real Kafka)', () => {
  const config = testConfig({ GEOFENCES_TOPIC: `test_geofences_${uniqueSuffix()}` });
  const env = cliEnv(config, { GEOFENCES_TOPIC: config.events.geofencesTopic });
  const fleet = async (...args: string[]) => {
    const run = runCli(args, env);
    return { code: await run.exited, output: run.output() };
  };
  /** The topic as every events processor reads it. */
  const stored = async () => {
    const followed = await followGeofences(testKafka(config), config.events.geofencesTopic, {
      logger: silentLogger,
      stopWhenCaughtUp: true,
    });
    await followed.stop().catch(() => undefined);
    return [...followed.table.all()].map(([id]) => id).sort();
  };
  beforeAll(async () => {
    await createTestTopics(config);
    // The geofences topic as the API, the CLI or the simulator would have created it.
    const publisher = new GeofencePublisher(testKafka(config), {
      topic: config.topic,
      name: config.events.geofencesTopic,
    });
    await publisher.connect();
    await publisher.close();
  }, 60_000);
  const file = (name: string, doc: unknown) => {
    const p = path.join(dir, name);
    writeFileSync(p, JSON.stringify(doc));
    return p;
  };

  it('import refuses a file with an invalid feature (naming it) unless --skip-invalid; list and delete', async () => {
    const open = squareFeature('Open');
    open.geometry.coordinates[0]!.pop();
    const zones = file('zones.geojson', {
      type: 'FeatureCollection',
      features: [
        { ...squareFeature('B'), id: 'zone-b' },
        { ...squareFeature('A', 30), properties: { name: 'A', speedLimitKmh: 30, id: 'zone-a' } },
        { ...open, id: 'zone-open' },
      ],
    });
    const refused = await fleet('geofences', 'import', zones);
    expect(refused.code, refused.output).toBe(1);
    expect(refused.output).toContain(
      'features[2] (id zone-open): geometry.coordinates[0]: a linear ring must be closed',
    );
    expect(refused.output).toContain('nothing imported');
    expect(await stored()).toEqual([]);

    const imported = await fleet('geofences', 'import', zones, '--skip-invalid');
    expect(imported.code, imported.output).toBe(0);
    expect(imported.output).toContain('imported 2 geofence(s)');
    expect(await stored()).toEqual(['zone-a', 'zone-b']);

    const list = await fleet('geofences', 'list');
    expect(list.code, list.output).toBe(0);
    expect(list.output.split('\n').filter((line) => line.startsWith('zone-'))).toEqual([
      expect.stringMatching(/^zone-a\s+A\s+Polygon\s+30$/),
      expect.stringMatching(/^zone-b\s+B\s+Polygon\s+-$/),
    ]);

    expect((await fleet('geofences', 'delete', 'zone-a')).code).toBe(0);
    expect(await stored()).toEqual(['zone-b']);
    const again = await fleet('geofences', 'delete', 'zone-a');
    expect(again.code).toBe(1);
    expect(again.output).toContain("geofence 'zone-a' does not exist");
  }, 300_000);

  it('simulate --geofences demo publishes the built-in set before simulating; a bad file stops it', async () => {
    const bad = file('bad.geojson', { type: 'FeatureCollection', features: [squareFeature('no id')] });
    const refused = await fleet('simulate', '--geofences', bad, '--vehicles', '1', '--duration', '1s');
    expect(refused.code).toBe(2);
    expect(refused.output).toContain('features[0]: id: missing');

    const run = await fleet('simulate', '--geofences', 'demo', '--vehicles', '1', '--duration', '1s');
    expect(run.code, run.output).toBe(0);
    expect((await stored()).filter((id) => id.startsWith('demo-'))).toEqual([
      'demo-centre',
      'demo-corridor-east',
      'demo-corridor-north',
      'demo-corridor-west',
      'demo-depot',
    ]);
  }, 300_000);
});
