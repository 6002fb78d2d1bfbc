export * from './config.js';
export { variables, type VariableSpec, type VariableName } from './variables.js';
