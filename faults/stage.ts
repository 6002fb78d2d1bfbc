import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Admin } from 'kafkajs';
import { compileConfig, readRawConfig, type Config } from '../src/config/index.js';
import { createPublisher, type PositionPublisher } from '../src/sources/publisher.js';
import { silentLogger, type Logger } from '../src/logger.js';
import { Registry } from 'prom-client';
import { checkLatestState, checkWarehouse, newestLanded, type LandedRow } from './checker.js';
import { FleetChild } from './children.js';
import { admin, consumerLag, createTopics, type SuiteServices } from './cluster.js';
import { readDuckDbRows, readLatestState } from './landed.js';
import type { AckLedger } from './ledger.js';
import { check, type Check, type Figures, type SuiteContext } from './scenario.js';
import type { WorkloadPlan } from './workload.js';

/**
 * One scenario's isolated world on the suite's services: its own topic, DLQ, consumer group, Redis
 * prefix and DuckDB file, the environment its `fleet` children run with, and the checks that read
 * back what landed.
 */
export class Stage {
  readonly env: Record<string, string>;
  readonly config: Readonly<Config>;
  readonly admin: Admin;
  private starts = 0;

  constructor(
    readonly ctx: SuiteContext,
    readonly services: SuiteServices,
    readonly name: string,
    overrides: Record<string, string> = {},
  ) {
    const id = randomBytes(3).toString('hex');
    this.env = {
      KAFKA_BROKERS: services.brokers.join(','),
      REDIS_URL: services.redisUrl,
      TOPIC: `faults_${name}_${id}`,
      CONSUMER_GROUP: `faults-${name}-${id}`,
      REDIS_PREFIX: `faults:${name}:${id}:`,
      WAREHOUSE: 'duckdb',
      DUCKDB_PATH: path.join(ctx.runDir, `${name}.duckdb`),
      FLEET_HOME: path.join(ctx.runDir, 'fleet-home'),
      LOG_LEVEL: 'info',
      API_AUTH: 'off',
      // The default 9464 may be taken on a shared machine; scenarios that scrape pick a free port.
      METRICS_PORT: '0',
      ...overrides,
    };
    this.config = compileConfig(readRawConfig(this.env), { ...this.env, NODE_ENV: 'test' });
    this.admin = admin(services);
  }

  async setUp(): Promise<void> {
    await this.admin.connect();
    await createTopics(this.services, this.config.topic);
  }

  async tearDown(): Promise<void> {
    await this.admin.disconnect();
  }

  /** The project's publisher on this stage's topic: the writes the suite counts as acknowledged. */
  publisher(logger: Logger = silentLogger): PositionPublisher {
    return createPublisher(this.config, { logger, registry: new Registry() });
  }

  /** `fleet <command>` as a child with the stage's environment. */
  start(command: string[], env: Record<string, string> = {}, script?: string): FleetChild {
    const n = ++this.starts;
    return FleetChild.start({
      name: `${command[0]}#${n}`,
      args: command,
      env: { ...this.env, ...env },
      logFile: path.join(this.ctx.runDir, 'logs', `${this.name}-${command[0]}-${n}.log`),
      ...(script ? { script } : {}),
    });
  }

  lag(): Promise<number> {
    return consumerLag(this.admin, this.config.consumer.groupId, this.config.topic.name);
  }

  /** Waits until the group committed everything on the topic (lag 0), or throws after `timeoutMs`. */
  async drained(timeoutMs: number, watch?: FleetChild): Promise<number> {
    const started = Date.now();
    for (;;) {
      const lag = await this.lag().catch(() => Number.NaN);
      if (lag === 0) return Date.now() - started;
      if (watch && !watch.alive) {
        throw new Error(
          `${watch.name} exited (${JSON.stringify(watch.exitInfo)}) with lag ${lag}:\n${watch.tail()}`,
        );
      }
      if (Date.now() - started > timeoutMs) throw new Error(`lag still ${lag} after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  rows(): Promise<LandedRow[]> {
    return readDuckDbRows(this.env.DUCKDB_PATH!, this.config.warehouse.table, this.config.topic.name);
  }

  /**
   * The standard verdict of a workload run: acknowledged vs landed in the warehouse, and the
   * latest-state table against the newest landed position of every vehicle.
   */
  async verify(
    plan: WorkloadPlan,
    ledger: AckLedger,
    rows: LandedRow[],
  ): Promise<{ figures: Figures; checks: Check[]; notes: string[] }> {
    const w = checkWarehouse(plan, ledger, rows);
    const counts = ledger.counts();
    const expected = newestLanded(rows);
    const held = await readLatestState(this.services.redisUrl, this.config.redis.prefix, expected.keys());
    const s = checkLatestState(expected, held);
    return {
      figures: {
        produced: counts.produced,
        acknowledged: counts.acknowledged,
        landed: w.landed,
        lost: w.lost,
        duplicated: w.duplicated,
      },
      checks: [
        check(
          'warehouse holds every acknowledged position once',
          w.lost === 0 && w.duplicated === 0 && w.duplicateOffsets === 0 && w.foreign === 0,
          `${w.rows} rows, lost ${w.lost}${w.lostSample.length ? ` (e.g. seq ${w.lostSample.join(', ')})` : ''}, duplicated ${w.duplicated}, same offset twice ${w.duplicateOffsets}, foreign ${w.foreign}`,
        ),
        check(
          'latest-state table holds the newest position of every vehicle',
          s.behind === 0 && s.ahead === 0,
          `${s.vehicles} vehicles, behind ${s.behind} (missing ${s.missing}), ahead ${s.ahead}${s.sample.length ? `; ${s.sample.join('; ')}` : ''}`,
        ),
      ],
      notes: [
        `publish: ${counts.acknowledged} acknowledged, ${counts.failed} failed (indeterminate), ${w.unacknowledgedLanded} of those landed anyway`,
      ],
    };
  }
}
