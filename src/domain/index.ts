export * from './position.js';
export * from './codec.js';
export * from './geo.js';
export * from './records.js';
