import { describe, expect, it } from 'vitest';
import { VirtualTimeScheduler } from 'rxjs';
import type { Position } from '../../src/domain/position.js';
import { KafkaUnavailableError } from '../../src/errors.js';
import type { Publisher } from '../../src/ingest/publisher.js';
import { AREA_PRESETS } from '../../src/ingest/simulator/area.js';
import { Fleet } from '../../src/ingest/simulator/fleet.js';
import { formatProgress } from '../../src/ingest/simulator/progress.js';
import { Simulation } from '../../src/ingest/simulator/simulation.js';

const start = Date.UTC(2026, 2, 2, 9, 0, 0);

/** A publisher port that records calls and settles them when told. */
class FakePublisher implements Publisher {
  calls: { positions: Position[]; settle: (err?: Error) => void }[] = [];
  auto: 'resolve' | 'reject' | 'hold' = 'resolve';
  publish(positions: readonly Position[]): Promise<void> {
    return new Promise((resolve, reject) => {
      const settle = (err?: Error) => (err ? reject(err) : resolve());
      this.calls.push({ positions: [...positions], settle });
      if (this.auto === 'resolve') resolve();
      if (this.auto === 'reject') reject(new KafkaUnavailableError('broker down'));
    });
  }
}

function setup(options: { durationMs?: number; maxOutstanding?: number; vehicles?: number } = {}) {
  const scheduler = new VirtualTimeScheduler();
  const fleet = new Fleet({
    seed: 3,
    vehicles: options.vehicles ?? 3,
    area: AREA_PRESETS.berlin!,
    intervalMs: 1000,
    startMs: start,
  });
  const publisher = new FakePublisher();
  const simulation = new Simulation({
    fleet,
    publisher,
    scheduler,
    clockOffsetMs: start,
    tickMs: 100,
    ...options,
  });
  const advance = async (ms: number) => {
    for (let step = 0; step < ms; step += 100) {
      scheduler.maxFrames = scheduler.frame + 100;
      scheduler.flush();
      await new Promise((r) => setImmediate(r));
    }
  };
  return { scheduler, simulation, publisher, advance };
}

describe('Simulation (virtual time, fake publisher port)', () => {
  it('publishes the reports due at each tick as one call and stops after the duration', async () => {
    const { simulation, publisher, advance } = setup({ durationMs: 5000 });
    const done = simulation.run();
    await advance(6000);
    const result = await done;
    const all = publisher.calls.flatMap((c) => c.positions);
    // 3 vehicles x 1 report per second x 5 s
    expect(all).toHaveLength(15);
    expect(all.every((p) => p.ts >= start && p.ts < start + 5000)).toBe(true);
    expect(publisher.calls.length).toBeLessThanOrEqual(50);
    expect(publisher.calls.every((c) => c.positions.length > 0)).toBe(true);
    expect(result).toMatchObject({ generated: 15, acked: 15, failed: 0, outstanding: 0 });
    // the same positions as asking the fleet directly: ticking does not change the simulation
    const direct = new Fleet({
      seed: 3,
      vehicles: 3,
      area: AREA_PRESETS.berlin!,
      intervalMs: 1000,
      startMs: start,
    });
    expect(all).toEqual(direct.advanceTo(start + 4999));
  });

  it('waits while too many positions are unacknowledged, then catches up', async () => {
    const { simulation, publisher, advance } = setup({ maxOutstanding: 6, vehicles: 3 });
    publisher.auto = 'hold';
    void simulation.run();
    await advance(5000);
    const held = simulation.progress();
    expect(held.outstanding).toBeLessThanOrEqual(6);
    expect(held.generated).toBe(held.outstanding);
    expect(held.throttledTicks).toBeGreaterThan(10);
    for (const c of publisher.calls) c.settle();
    publisher.auto = 'resolve';
    await advance(1000);
    const after = simulation.progress();
    expect(after.acked).toBeGreaterThanOrEqual(held.generated);
    expect(after.generated).toBeGreaterThanOrEqual(15);
    simulation.stop();
  });

  it('counts failed publishes and keeps going', async () => {
    const { simulation, publisher, advance } = setup({ durationMs: 3000 });
    publisher.auto = 'reject';
    const done = simulation.run();
    await advance(4000);
    const result = await done;
    expect(result).toMatchObject({ generated: 9, acked: 0, failed: 9, lastError: 'broker down' });
    expect(formatProgress(result, 0)).toContain('errors 9');
  });
});
