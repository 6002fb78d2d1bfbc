import type { RunningApiServer } from '../api/server.js';
import type { parseArea } from '../ingest/simulator/area.js';
import { Fleet } from '../ingest/simulator/fleet.js';
import { demoGeofences } from '../ingest/simulator/demo-geofences.js';
import { publishGeofences } from '../ingest/geofence-publisher.js';
import { createKafka } from '../kafka/client.js';
import { steadyProfile } from '../ingest/simulator/profile.js';
import { Simulation } from '../ingest/simulator/simulation.js';
import type { ProcessorHandle } from '../processor/processor.js';
import type { EventsProcessorHandle } from '../processor/events-processor.js';
import type { EventsSinkHandle } from '../processor/events-sink.js';
import type { Scenario } from '../ingest/simulator/scenario.js';
import type { App } from './app.js';

export interface DevOptions {
  /** The simulated fleet; `null`: positions come only from devices and `fleet simulate`. */
  simulation: {
    vehicles: number;
    intervalMs: number;
    area: ReturnType<typeof parseArea>;
    /** Speeders and silent vehicles, so events show up in the demo. @default none */
    scenario?: Scenario;
  } | null;
}

export interface DevServices {
  processor: ProcessorHandle;
  events: { processor: EventsProcessorHandle; sink: EventsSinkHandle | null };
  api: RunningApiServer;
  gatewayAddress: string;
  simulating: boolean;
}

/**
 * `fleet dev` in one process: the processor (sharing the API's table and warehouse), the events
 * processor, one
 * publisher for the API's ingest route, the gateway and the simulator, the API and live map.
 * Each is registered with the app, so closing it stops the simulator first and the table last,
 * and one failing close does not skip the others.
 */
export async function startDev(app: App, options: DevOptions): Promise<DevServices> {
  const processor = await app.processor({ shareSinks: true });
  const events = await app.eventsProcessor();
  const publisher = await app.publisher({ closeTimeoutMs: 5000 });
  const api = await app.apiServer({ publisher });
  const gateway = await app.gateway(publisher);
  const sim = options.simulation;
  if (sim) {
    // The demo geofence set over the simulated area, so enter/exit and zone-limit events show up.
    const kafka = createKafka(app.config.kafka, { logger: app.logger, role: 'dev-geofences' });
    await publishGeofences(
      kafka,
      { topic: app.config.topic, name: app.config.events.geofencesTopic },
      demoGeofences(sim.area).map((g) => ({ id: g.id, geofence: g })),
    );
    const simulation = new Simulation({
      fleet: new Fleet({
        seed: Date.now() % 2 ** 31,
        vehicles: sim.vehicles,
        area: sim.area,
        intervalMs: sim.intervalMs,
        startMs: Date.now(),
        profile: steadyProfile,
        idPrefix: 'sim-',
        ...(sim.scenario ? { scenario: sim.scenario } : {}),
      }),
      publisher,
      logger: app.logger,
      tickMs: Math.min(100, sim.intervalMs),
    });
    const running = simulation.run();
    app.own('simulator', simulation, async (s) => {
      s.stop();
      await running;
    });
  }
  return { processor, events, api, gatewayAddress: gateway.address, simulating: sim !== null };
}
