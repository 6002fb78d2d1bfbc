import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Admin } from 'kafkajs';
import { compileConfig, readRawConfig, type Config } from '../src/config/index.js';
import { createPublisher, type PositionPublisher } from '../src/ingest/publisher.js';
import { silentLogger, type Logger } from '../src/logger.js';
import { Registry } from 'prom-client';
import { auditStores } from './audit.js';
import { checkWarehouse, type LandedRow } from './checker.js';
import { FleetChild } from './children.js';
import { admin, committedOffsets, consumerLag, createTopics, type SuiteServices } from './cluster.js';
import { readDuckDbRows } from './landed.js';
import type { AckLedger } from './ledger.js';
import { check, type Check, type Figures, type ScenarioContext } from './scenario.js';
import type { TopicRecord } from './topic.js';
import { checkPublishFailures } from './windows.js';
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
    readonly ctx: ScenarioContext,
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
  start(command: string[], env: Record<string, string> = {}, script?: string, netns?: string): FleetChild {
    const n = ++this.starts;
    return FleetChild.start({
      name: `${command[0]}#${n}`,
      args: command,
      env: { ...this.env, ...env },
      logFile: path.join(this.ctx.runDir, 'logs', `${this.name}-${command[0]}-${n}.log`),
      ...(script ? { script } : {}),
      ...(netns ? { netns } : {}),
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

  /**
   * Waits until the processor joined its group and committed an offset at least once (a fault
   * injected before that tests nothing); throws when `watch` exits or after `timeoutMs`.
   */
  async committedOnce(timeoutMs: number, watch: FleetChild): Promise<void> {
    const started = Date.now();
    const { groupId } = this.config.consumer;
    for (;;) {
      const offsets = await committedOffsets(this.admin, groupId, this.config.topic.name).catch(() => '');
      if (/:\d+/.test(offsets)) return;
      if (!watch.alive)
        throw new Error(
          `${watch.name} exited (${JSON.stringify(watch.exitInfo)}) before its first commit:\n${watch.tail()}`,
        );
      if (Date.now() - started > timeoutMs)
        throw new Error(
          `${watch.name} committed nothing within ${timeoutMs} ms (offsets ${offsets || 'unreadable'}):\n${watch.tail()}`,
        );
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  rows(): Promise<LandedRow[]> {
    return readDuckDbRows(this.env.DUCKDB_PATH!, this.config.warehouse.table, this.config.topic.name);
  }

  /**
   * The standard verdict of a workload run: acknowledged vs landed in the warehouse (by position),
   * the end-of-scenario audit against the topic itself (warehouse, DLQ, raw Redis table), and
   * publish failures against the scenario's fault windows.
   */
  async verify(
    plan: WorkloadPlan,
    ledger: AckLedger,
    rows: LandedRow[],
  ): Promise<{ figures: Figures; checks: Check[]; notes: string[]; records: TopicRecord[] }> {
    const w = checkWarehouse(plan, ledger, rows);
    const counts = ledger.counts();
    const audit = await auditStores(this.config, rows, { plan, ledger });
    const faults = this.ctx.faults;
    faults.closeAll();
    const publishes = checkPublishFailures(ledger.failures(), faults.list(), faults.bound);
    return {
      records: audit.records,
      figures: {
        produced: counts.produced,
        acknowledged: counts.acknowledged,
        landed: w.landed,
        lost: w.lost,
        duplicated: w.duplicated,
        failedInFaults: publishes.insideFailed,
      },
      checks: [
        check(
          'warehouse holds every acknowledged position once',
          w.lost === 0 && w.duplicated === 0 && w.duplicateOffsets === 0 && w.foreign === 0,
          `${w.rows} rows, lost ${w.lost}${w.lostSample.length ? ` (e.g. seq ${w.lostSample.join(', ')})` : ''}, duplicated ${w.duplicated}, same offset twice ${w.duplicateOffsets}, foreign ${w.foreign}`,
        ),
        ...audit.checks,
        check('publishes failed only inside fault windows, within the bound', publishes.ok, publishes.detail),
      ],
      notes: [
        `publish: ${counts.acknowledged} acknowledged, ${counts.failed} failed (indeterminate), ${audit.coverage.failedButLanded} of those landed (on the topic, checked like the rest)`,
      ],
    };
  }
}
