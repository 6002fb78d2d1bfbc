export * from './config.js';
export { variables, type VariableSpec, type VariableName } from './variables.js';
export * from './environment.js';
export type { GatewayConfig, RateLimit } from './gateway.js';
