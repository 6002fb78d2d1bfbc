import { DuckDBInstance } from '@duckdb/node-api';
import type { Config } from '../src/config/index.js';
import type { Logger } from '../src/logger.js';
import { createRedisStateTable } from '../src/state/index.js';
import type { LatencySummary } from './stats.js';

/** What the pipeline stored: vehicles in the Redis table and rows in the DuckDB warehouse. */
export async function countStored(
  config: Readonly<Config>,
  logger: Logger,
): Promise<{ redisVehicles: number; warehouseRows: number }> {
  const redisVehicles = await countVehicles(config, logger);
  const warehouseRows = await withDuckDb(config, async (run) => {
    const rows = await run(
      `SELECT count(*)::BIGINT AS n FROM ${config.warehouse.table} WHERE kafka_topic = $1`,
      [config.topic.name],
    );
    return Number(rows[0]?.n ?? 0);
  });
  return { redisVehicles, warehouseRows };
}

/** Vehicles in the Redis latest-state table under the config's prefix. */
export async function countVehicles(config: Readonly<Config>, logger: Logger): Promise<number> {
  const table = createRedisStateTable({
    partitions: config.topic.partitions,
    url: config.redis.url,
    prefix: config.redis.prefix,
    logger,
  });
  try {
    return await table.count();
  } finally {
    await table.close();
  }
}

/**
 * Event time → stored in the warehouse, per event-time window: `ingested_at − ts` of every row the
 * processor wrote for `topic` (the sink stamps ingested_at when it writes the batch).
 */
export async function warehouseLatency(
  config: Readonly<Config>,
  windows: { from: number; to: number }[],
): Promise<LatencySummary[]> {
  return withDuckDb(config, async (run) => {
    const out: LatencySummary[] = [];
    for (const w of windows) {
      const [row] = await run(
        `SELECT quantile_disc(d, 0.5) AS p50, quantile_disc(d, 0.95) AS p95, quantile_disc(d, 0.99) AS p99,
           max(d) AS max, count(*)::BIGINT AS count
         FROM (SELECT epoch_ms(ingested_at) - epoch_ms(ts) AS d FROM ${config.warehouse.table}
               WHERE kafka_topic = $1 AND ts >= make_timestamptz($2::BIGINT * 1000)
                 AND ts <= make_timestamptz($3::BIGINT * 1000))`,
        [config.topic.name, w.from, w.to],
      );
      out.push({
        p50: Number(row?.p50 ?? NaN),
        p95: Number(row?.p95 ?? NaN),
        p99: Number(row?.p99 ?? NaN),
        max: Number(row?.max ?? NaN),
        count: Number(row?.count ?? 0),
      });
    }
    return out;
  });
}

type Run = (sql: string, params: (string | number)[]) => Promise<Record<string, unknown>[]>;

/** Opens the processor's DuckDB file read-only (the processor must have stopped: one writer). */
async function withDuckDb<T>(config: Readonly<Config>, fn: (run: Run) => Promise<T>): Promise<T> {
  const instance = await DuckDBInstance.create(config.warehouse.duckdbPath, { access_mode: 'READ_ONLY' });
  const connection = await instance.connect();
  try {
    return await fn(async (sql, params) => (await connection.runAndReadAll(sql, params)).getRowObjectsJS());
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
