import { randomBytes } from 'node:crypto';
import type { Position } from '../src/domain/position.js';
import type { VehicleEvent } from '../src/domain/vehicle-event.js';
import { createKafka } from '../src/kafka/client.js';
import { eventsSinkGroup } from '../src/processor/events-sink.js';
import { EVENTS_TABLE } from '../src/sinks/events-warehouse.js';
import { silentLogger } from '../src/logger.js';
import { sleep } from '../src/retry.js';
import type { FleetChild } from './children.js';
import { committedOffsets, consumerLag } from './cluster.js';
import {
  eventsWorkload,
  expectedEvents,
  EVENTS_RULES_ENV,
  readCommitted,
  stepPositions,
} from './events-workload.js';
import { seededRandom } from './fuzz.js';
import {
  endOffsets,
  groupOffsets,
  judgeSnapshot,
  readPlacedEvents,
  readWarehouseEventIds,
  sinkBehind,
  type KillSnapshot,
  type PlacedEvent,
} from './events-landed.js';
import { PROCESSOR_ENV } from './processor-crashes.js';
import { check, seconds, type Scenario } from './scenario.js';
import { Stage } from './stage.js';

/**
 * 8. `fleet events-process` is SIGKILLed again and again while positions that cause events
 * (geofence crossings, overspeed, trips) are produced; a last one drains. `vehicle_events`, read
 * committed, must then hold exactly the events the detectors give for the positions topic's
 * contents: none lost, none twice (by id), none foreign. Kafka transactions are what make this
 * hold: output, state changelog and consumed offset are committed together or not at all.
 * The events sink runs in the same process (kills hit it mid-write too): the warehouse table
 * `vehicle_events` of the stage's DuckDB file must end with the same events, each once. After every
 * kill the file is read (the sink commits its offsets only after a write: nothing it committed past
 * may be missing).
 */
export const eventsCrashes: Scenario = {
  id: 'events-crashes',
  number: 8,
  title: 'Events processor crashes: SIGKILL `fleet events-process` while positions cause events',
  async run(ctx) {
    const services = await ctx.services(1);
    const id = randomBytes(3).toString('hex');
    const stage = new Stage(ctx, services, 'events', {
      ...PROCESSOR_ENV,
      ...EVENTS_RULES_ENV,
      EVENTS_TOPIC: `faults_events_${id}`,
      GEOFENCES_TOPIC: `faults_geofences_${id}`,
      EVENTS_GROUP: `faults-events-${id}`,
    });
    await stage.setUp();
    const { events } = stage.config;
    const kafka = createKafka(stage.config.kafka, { logger: silentLogger, role: 'faults' });
    const workload = eventsWorkload(ctx.quick ? 150 : 400, ctx.quick ? 90 : 240);
    const stepsPerS = ctx.quick ? 2 : 4;
    const minKills = ctx.quick ? 5 : 12;
    const random = seededRandom(ctx.seed ^ 0xe7);
    const publisher = stage.publisher(ctx.logger);
    const sinkGroup = eventsSinkGroup(stage.config);
    const duckdbPath = stage.env.DUCKDB_PATH!;
    const snapshots: KillSnapshot[] = [];
    const snapshotErrors: string[] = [];
    try {
      // The first processor creates the events topics; the geofences go in before any position.
      let processor: FleetChild = stage.start(['events-process']);
      while ((await stage.admin.listTopics()).indexOf(events.geofencesTopic) < 0) await sleep(200);
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({
        topic: events.geofencesTopic,
        messages: workload.geofences.map((g) => ({ key: g.id, value: JSON.stringify(g.feature) })),
      });
      await producer.disconnect();
      await publisher.connect();

      let producing = true;
      let acked = 0;
      const production = (async () => {
        for (let i = 0; i < workload.perVehicle; i++) {
          const batch: Position[] = stepPositions(workload, i);
          await publisher.publish(batch);
          acked += batch.length;
          await sleep(1000 / stepsPerS);
        }
      })().finally(() => (producing = false));

      const kills: string[] = [];
      let midWork = 0;
      let diedAlone = 0;
      const t0 = Date.now();
      for (;;) {
        if (kills.length >= minKills && !producing) break;
        // Most kills wait until this processor has committed a transaction, then a random while
        // (mid-batch, mid-transaction); the rest hit at any moment (start-up, restore, group join).
        // About half of those after a commit come at once: the transaction has just handed its
        // events to the sink in the same process, which must still write and commit them (the
        // sink writes within milliseconds, so kills a random while later rarely found it behind).
        const before = await committedOffsets(stage.admin, events.applicationId, stage.config.topic.name);
        const committed = async () =>
          (await committedOffsets(stage.admin, events.applicationId, stage.config.topic.name)) !== before;
        const when = random();
        if (when < 0.25) await sleep(random() * 5000);
        else {
          const atOnce = when < 0.6;
          const deadline = Date.now() + 60_000;
          while (processor.alive && producing && Date.now() < deadline && !(await committed()))
            await sleep(atOnce ? 5 : 200);
          if (!atOnce) await sleep(random() * 3000);
        }
        const after = await committedOffsets(stage.admin, events.applicationId, stage.config.topic.name);
        if (!processor.alive) {
          diedAlone++;
          ctx.say(
            `events processor exited by itself: ${JSON.stringify(processor.exitInfo)}\n${processor.tail(5)}`,
          );
        }
        const killed = ctx.faults.open(`kill -9 of the events processor #${kills.length + 1}`);
        await processor.kill();
        // The file is free now (DuckDB holds it per process): what the sink had stored at the kill.
        try {
          snapshots.push({
            ids: await readWarehouseEventIds(duckdbPath, EVENTS_TABLE),
            sinkAt: await groupOffsets(stage.admin, sinkGroup, events.topic),
            topicEnd: await endOffsets(stage.admin, events.topic),
          });
        } catch (err) {
          snapshotErrors.push(`kill #${kills.length + 1}: ${String(err)}`);
        }
        if (after !== before) midWork++;
        kills.push(seconds(Date.now() - t0));
        processor = stage.start(['events-process']);
        killed();
      }
      await production;
      ctx.say(`${kills.length} kills; ${acked} positions acknowledged; draining the events processor`);
      const drainStart = Date.now();
      for (;;) {
        const lag = await consumerLag(stage.admin, events.applicationId, stage.config.topic.name).catch(
          () => NaN,
        );
        if (lag === 0) break;
        if (!processor.alive)
          throw new Error(`events processor exited with lag ${lag}:\n${processor.tail()}`);
        if (Date.now() - drainStart > (ctx.quick ? 120_000 : 600_000))
          throw new Error(`events lag still ${lag}`);
        await sleep(500);
      }
      const positions = await readCommitted<Position>(kafka, stage.config.topic.name);
      const expected = expectedEvents(workload, positions, {
        ...stage.config.events.rules,
      });
      // The last positions wait out the grace period until the wall-clock sweep releases them.
      let placed: PlacedEvent[] = [];
      const settle = Date.now();
      do {
        await sleep(1000);
        placed = await readPlacedEvents(kafka, events.topic);
      } while (
        new Set(placed.map((e) => e.event.id)).size < new Set(expected.map((e) => e.id)).size &&
        Date.now() - settle < 30_000
      );
      const got: VehicleEvent[] = placed.map((e) => e.event);
      // The sink (same process) must have committed past every event before the processor stops.
      const sinkWaitMs = ctx.quick ? 60_000 : 180_000;
      const sinkStart = Date.now();
      let behind = sinkBehind(placed, await groupOffsets(stage.admin, sinkGroup, events.topic));
      while (behind > 0 && processor.alive && Date.now() - sinkStart < sinkWaitMs) {
        await sleep(500);
        behind = sinkBehind(placed, await groupOffsets(stage.admin, sinkGroup, events.topic));
      }
      const sinkCaughtUpMs = Date.now() - sinkStart;
      const stopped = await processor.stop();
      const stored = await readWarehouseEventIds(duckdbPath, EVENTS_TABLE);

      const want = new Set(expected.map((e) => e.id));
      const seen = new Map<string, number>();
      for (const e of got) seen.set(e.id, (seen.get(e.id) ?? 0) + 1);
      const lost = [...want].filter((x) => !seen.has(x));
      const duplicated = [...seen.values()].filter((n) => n > 1).length;
      const foreign = [...seen.keys()].filter((x) => !want.has(x));
      const rows = new Map<string, number>();
      for (const x of stored) rows.set(x, (rows.get(x) ?? 0) + 1);
      const whLost = [...want].filter((x) => !rows.has(x));
      const whDuplicated = [...rows.values()].filter((n) => n > 1).length;
      const whForeign = [...rows.keys()].filter((x) => !want.has(x));
      const verdicts = snapshots.map((s) => judgeSnapshot(s, placed));
      const committedButMissing = verdicts.reduce((n, v) => n + v.committedButMissing, 0);
      const types = new Map<string, number>();
      for (const e of expected) types.set(e.type, (types.get(e.type) ?? 0) + 1);
      return {
        figures: {
          produced: workload.vehicles * workload.perVehicle,
          acknowledged: acked,
          landed: seen.size,
          lost: lost.length + whLost.length,
          duplicated: duplicated + whDuplicated,
        },
        checks: [
          check(
            `events processor SIGKILLed at least ${minKills} times while it committed`,
            kills.length >= minKills && midWork >= kills.length / 2,
            `${kills.length} kills, ${midWork} of them after it had committed transactions`,
          ),
          check(
            'not vacuous: the positions caused events',
            want.size > 100,
            `${want.size} expected events: ${[...types].map(([t, n]) => `${t} ${n}`).join(', ')}`,
          ),
          check(
            'vehicle_events holds exactly the expected events, each once',
            lost.length === 0 && duplicated === 0 && foreign.length === 0,
            `${got.length} records, ${seen.size} ids; lost ${lost.length}, duplicated ${duplicated}, foreign ${foreign.length}${foreign.length ? ` (e.g. ${foreign.slice(0, 2).join(', ')})` : ''}`,
          ),
          check(
            'the warehouse table vehicle_events holds exactly the expected events, each once',
            behind === 0 && whLost.length === 0 && whDuplicated === 0 && whForeign.length === 0,
            `${stored.length} rows, ${rows.size} ids; lost ${whLost.length}, duplicated ${whDuplicated}, foreign ${whForeign.length}${whLost.length ? ` (e.g. ${whLost.slice(0, 2).join(', ')})` : ''}; sink ${behind === 0 ? `caught up in ${seconds(sinkCaughtUpMs)}` : `still ${behind} events behind after ${seconds(sinkCaughtUpMs)}`}`,
          ),
          check(
            'at every kill the warehouse held every event the sink had committed past',
            snapshotErrors.length === 0 && snapshots.length === kills.length && committedButMissing === 0,
            `${snapshots.length} of ${kills.length} snapshots read; ${committedButMissing} committed-but-missing${snapshotErrors.length ? `; ${snapshotErrors[0]}` : ''}`,
          ),
          check(
            'not vacuous: some kills hit the sink with events not yet stored or not yet committed',
            verdicts.some((v) => v.pending > 0 || v.writtenNotCommitted > 0),
            `${verdicts.filter((v) => v.pending > 0 || v.writtenNotCommitted > 0).length} of ${verdicts.length} kills`,
          ),
          check(
            'every position was read back from the topic',
            positions.length === acked,
            `${positions.length} of ${acked}`,
          ),
          check('no events processor died on its own', diedAlone === 0, `${diedAlone} unexpected exits`),
          check(
            'the last events processor stopped cleanly on SIGTERM',
            stopped.graceful,
            JSON.stringify(stopped.exit),
          ),
        ],
        notes: [
          `kills at ${kills.join(', ')}`,
          `warehouse at each kill (rows / stored but offset not committed / committed events not stored yet): ${snapshots
            .map((s, i) => `${s.ids.length}/${verdicts[i]!.writtenNotCommitted}/${verdicts[i]!.pending}`)
            .join(', ')}`,
          `kills between a sink write and its offset commit: ${verdicts.filter((v) => v.writtenNotCommitted > 0).length}; with the sink behind: ${verdicts.filter((v) => v.pending > 0).length} of ${verdicts.length}`,
          `events expected by type: ${[...types].map(([t, n]) => `${t}=${n}`).join(' ')}`,
        ],
      };
    } finally {
      await publisher.close().catch(() => undefined);
      await stage.tearDown();
    }
  },
};
