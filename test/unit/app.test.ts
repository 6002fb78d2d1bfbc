import type { OpenDeviceRegistry } from '../../src/ingest/gateway/device-registry.js';
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { runApp } from '../../src/app/app.js';
import { startDev } from '../../src/app/dev.js';
import type { ServiceFactories } from '../../src/app/factories.js';
import type { EventsProcessorHandle } from '../../src/processor/events-processor.js';
import type { EventsSinkHandle } from '../../src/processor/events-sink.js';
import { Scope, ShutdownError, withScope } from '../../src/app/scope.js';
import { untilSignal, type SignalSource } from '../../src/app/until-signal.js';
import { compileConfig, readRawConfig } from '../../src/config/index.js';
import { silentLogger } from '../../src/logger.js';
import type { ProcessorHandle } from '../../src/processor/processor.js';
import type { Warehouse } from '../../src/sinks/warehouse-sink.js';
import {
  FakeEventsWarehouse,
  FakeGeofenceStore,
  FakeStateTable,
  FakeWarehouse,
} from '../support/api-fakes.js';

describe('Scope', () => {
  it('releases in reverse order of acquisition', async () => {
    const closed: string[] = [];
    await withScope(silentLogger, async (scope) => {
      for (const name of ['a', 'b', 'c']) scope.add(name, name, async () => void closed.push(name));
    });
    expect(closed).toEqual(['c', 'b', 'a']);
  });

  it('runs every release when some throw, then rejects with the first failure', async () => {
    const closed: string[] = [];
    const scope = new Scope(silentLogger);
    scope.add('table', 1, async () => void closed.push('table'));
    scope.add('warehouse', 2, async () => {
      closed.push('warehouse');
      throw new Error('second failure');
    });
    scope.add('api', 3, async () => {
      closed.push('api');
      throw new Error('first failure');
    });
    const err = await scope.close().catch((e: unknown) => e);
    expect(closed).toEqual(['api', 'warehouse', 'table']);
    expect(err).toBeInstanceOf(ShutdownError);
    expect((err as ShutdownError).resource).toBe('api');
    expect((err as ShutdownError).failures).toBe(2);
    expect((err as Error).message).toMatch(/api: first failure \(and 1 more/);
  });

  it("closes on the body's error and rethrows it (a close failure after it is only logged)", async () => {
    const closed: string[] = [];
    const bodyError = new Error('body failed');
    await expect(
      withScope(silentLogger, async (scope) => {
        scope.add('a', 1, async () => {
          closed.push('a');
          throw new Error('close failed');
        });
        throw bodyError;
      }),
    ).rejects.toBe(bodyError);
    expect(closed).toEqual(['a']);
  });

  it('registers nothing when acquiring fails', async () => {
    const scope = new Scope(silentLogger);
    await expect(
      scope.acquire(
        'x',
        () => Promise.reject(new Error('cannot')),
        async () => undefined,
      ),
    ).rejects.toThrow('cannot');
    await expect(scope.close()).resolves.toBeUndefined();
  });
});

describe('untilSignal', () => {
  it('resolves with the first signal; a second one forces the exit', async () => {
    const source = new EventEmitter() as EventEmitter & SignalSource;
    const forced: string[] = [];
    const waiting = untilSignal(['SIGINT', 'SIGTERM'], {
      source,
      onSecondSignal: (s) => forced.push(s),
    });
    source.emit('SIGTERM', 'SIGTERM');
    expect(await waiting).toBe('SIGTERM');
    expect(forced).toEqual([]);
    source.emit('SIGINT', 'SIGINT');
    expect(forced).toEqual(['SIGINT']);
    expect(source.listenerCount('SIGTERM')).toBe(1);
  });
});

describe('fleet dev teardown (composition root with fake services)', () => {
  const config = compileConfig(readRawConfig({}, { API_AUTH: 'off' }), {});

  /** Fakes of our own ports; each close is recorded and the named one throws. */
  function fakes(closed: string[], failing: string): ServiceFactories {
    const closer = (name: string) => async () => {
      closed.push(name);
      if (name === failing) throw new Error(`${name} close failed`);
    };
    const table = new FakeStateTable();
    table.close = closer('table');
    const warehouse = new FakeWarehouse() as unknown as Warehouse;
    warehouse.close = closer('warehouse');
    return {
      table: async () => table,
      stateReader: async () => ({ table, close: closer('state replica') }),
      warehouse: async () => warehouse,
      kafkaReadiness: () => ({ check: async () => undefined, close: closer('kafka readiness') }),
      processor: async () =>
        ({
          state: 'RUNNING',
          done: new Promise<void>(() => undefined),
          stop: async () => {
            await closer('processor')();
            return { clean: true, durationMs: 0 };
          },
        }) as unknown as ProcessorHandle,
      publisher: async () => ({
        publish: async () => undefined,
        connect: async () => undefined,
        close: closer('publisher'),
      }),
      apiServer: async () => ({
        url: 'http://127.0.0.1:1',
        app: undefined as never,
        close: closer('api'),
      }),
      gateway: async () => ({ address: 'http://127.0.0.1:2', close: closer('gateway') }),
      metricsServer: async () => ({ port: 0, close: closer('metrics') }),
      devices: () =>
        ({ store: {}, security: {}, close: closer('device registry') }) as unknown as OpenDeviceRegistry,
      geofences: async () => ({ store: new FakeGeofenceStore(), close: closer('geofences') }),
      eventsWarehouse: async () =>
        Object.assign(new FakeEventsWarehouse(), { close: closer('events warehouse') }),
      eventsProcessor: async () =>
        ({
          done: new Promise<void>(() => undefined),
          stop: closer('events processor'),
        }) as unknown as EventsProcessorHandle,
      eventsSink: async () => ({ stop: closer('events sink') }) as unknown as EventsSinkHandle,
      eventFeed: () => async () => async () => undefined,
    };
  }

  const everything = [
    'gateway',
    'api',
    'geofences',
    'device registry',
    'kafka readiness',
    'state replica',
    'publisher',
    'events sink',
    'events warehouse',
    'events processor',
    'processor',
    'warehouse',
    'table',
  ];

  for (const failing of ['api', 'processor', 'warehouse']) {
    it(`closes every service in reverse order when the ${failing} close throws, and fails`, async () => {
      const closed: string[] = [];
      const run = runApp(
        config,
        silentLogger,
        async (app) => {
          await startDev(app, { simulation: null });
        },
        fakes(closed, failing),
      );
      await expect(run).rejects.toThrow(new RegExp(`shutdown failed: .*${failing} close failed`));
      expect(closed).toEqual(everything);
    });
  }

  it('a clean shutdown closes everything once and resolves', async () => {
    const closed: string[] = [];
    await runApp(config, silentLogger, (app) => startDev(app, { simulation: null }), fakes(closed, ''));
    expect(closed).toEqual(everything);
  });
});
