export * from './latest-state-table.js';
export { createRedisStateTable, RedisStateTable, type RedisStateTableOptions } from './redis-state-table.js';
export { decodeCursor, encodeCursor, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './list-vehicles.js';
export { newestPerVehicle } from './newest-per-vehicle.js';
