import http from 'node:http';
import { BENCH_CITIES as CENTRES, benchVehicleId, seededRandom } from './fleet-positions.js';
import { LatencyRecorder, type LatencySummary } from './stats.js';

export interface LookupResult {
  byId: LatencySummary;
  nearby: LatencySummary;
  /** Non-200 answers (404 = vehicle not yet seen) and transport errors. */
  errors: number;
  /** Requests not sent because too many were already waiting (the API fell behind). */
  skipped: number;
}

const MAX_IN_FLIGHT = 64;

/**
 * An open-loop client: `ratePerS` requests a second (half GET /v1/vehicles/:id of a random known
 * vehicle, half GET /v1/vehicles/nearby of a random point, 1 km, 10 nearest) until `stop()`.
 * Latency is measured from sending to the last byte of the answer, with keep-alive connections.
 */
export class LookupLoad {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: MAX_IN_FLIGHT });
  private readonly byId = new LatencyRecorder();
  private readonly nearby = new LatencyRecorder();
  private readonly random = seededRandom(7);
  private readonly timer: NodeJS.Timeout;
  private readonly startedAt = performance.now();
  private sent = 0;
  private inFlight = 0;
  private errors = 0;
  private skipped = 0;
  private recording = true;

  constructor(
    private readonly baseUrl: string,
    private readonly ratePerS: number,
    /** How many vehicles exist (ids bench-000000 .. n-1); may grow while running. */
    private readonly knownVehicles: () => number,
  ) {
    this.timer = setInterval(() => this.tick(), 5);
  }

  private tick(): void {
    const due = Math.floor(((performance.now() - this.startedAt) / 1000) * this.ratePerS);
    while (this.sent < due) {
      this.sent++;
      if (this.inFlight >= MAX_IN_FLIGHT) {
        this.skipped++;
        continue;
      }
      if (this.sent % 2 === 0) {
        const id = benchVehicleId(Math.floor(this.random() * Math.max(1, this.knownVehicles())));
        this.request(`/v1/vehicles/${id}`, this.byId);
      } else {
        const centre = CENTRES[Math.floor(this.random() * CENTRES.length)] ?? CENTRES[0];
        const lat = (centre[0] + (this.random() - 0.5) * 0.2).toFixed(5);
        const lon = (centre[1] + (this.random() - 0.5) * 0.2).toFixed(5);
        this.request(`/v1/vehicles/nearby?lat=${lat}&lon=${lon}&radius_m=1000&limit=10`, this.nearby);
      }
    }
  }

  private request(path: string, recorder: LatencyRecorder): void {
    this.inFlight++;
    const started = performance.now();
    const req = http.get(`${this.baseUrl}${path}`, { agent: this.agent }, (res) => {
      res.resume();
      res.once('end', () => {
        this.inFlight--;
        if (!this.recording) return;
        if (res.statusCode === 200) recorder.record(performance.now() - started);
        else this.errors++;
      });
    });
    req.once('error', () => {
      this.inFlight--;
      this.errors++;
    });
  }

  stop(): LookupResult {
    clearInterval(this.timer);
    this.recording = false;
    this.agent.destroy();
    return {
      byId: this.byId.summary(),
      nearby: this.nearby.summary(),
      errors: this.errors,
      skipped: this.skipped,
    };
  }
}

/** Waits until `GET <baseUrl>/healthz` answers 200. */
export async function waitForHttp(baseUrl: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      http
        .get(`${baseUrl}/healthz`, (res) => {
          res.resume();
          resolve(res.statusCode === 200);
        })
        .once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline)
      throw new Error(`API at ${baseUrl} did not answer /healthz in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
