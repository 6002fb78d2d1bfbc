/**
 * Bench worker: the open-loop lookup client (`LookupLoad`) in a process of its own, so the
 * latencies it records are the API's, not the bench orchestrator's event loop.
 */
import { LookupLoad } from '../lookups.js';
import { serveRequests } from '../worker-ipc.js';

let load: LookupLoad | undefined;

serveRequests({
  start: async (body: {
    baseUrl: string;
    ratePerS: number;
    /** Vehicles already in the table, and how fast the run adds more (up to `vehicles`). */
    vehiclesInTable: number;
    produced: number;
    rate: number;
    vehicles: number;
  }) => {
    const started = performance.now();
    load = new LookupLoad(body.baseUrl, body.ratePerS, () =>
      Math.max(
        body.vehiclesInTable,
        Math.min(body.vehicles, body.produced + ((performance.now() - started) / 1000) * body.rate),
      ),
    );
  },
  stop: async () => {
    const result = load?.stop();
    load = undefined;
    return result;
  },
  close: async () => {
    load?.stop();
  },
});
