import type { ApiConfig } from '../config/config.js';
import type { Logger } from '../logger.js';
import type { WarehouseReader } from '../sinks/warehouse-reader.js';
import type { LatestStateTable } from '../state/latest-state-table.js';

/** What every route registrar gets: the ports it reads and the API settings. */
export interface RouteContext {
  table: LatestStateTable;
  warehouse: WarehouseReader;
  api: Readonly<ApiConfig>;
  /** Clock for ages, staleness and default windows (epoch ms). */
  now: () => number;
  logger: Logger;
}
