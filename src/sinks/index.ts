export type {
  HistoryRow,
  TripRules,
  VehicleSummary,
  Warehouse,
  WarehouseReader,
  WarehouseSink,
  WriteResult,
} from './warehouse-sink.js';
export { createWarehouse } from './create-warehouse.js';
