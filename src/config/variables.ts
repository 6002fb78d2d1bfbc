import { z } from 'zod';
import { eventsVariables } from './variables-events.js';
import { httpVariables } from './variables-http.js';
import { kafkaVariables } from './variables-kafka.js';
import { storageVariables } from './variables-storage.js';
import type { VariableSpec } from './variable-spec.js';

export type { VariableSpec } from './variable-spec.js';

/**
 * Every environment variable the project reads, with its default and meaning, in the order
 * docs/configuration.md lists them (`npm run docs:config`; a test fails when it is out of date).
 */
export const variables = [
  ...kafkaVariables,
  ...storageVariables,
  ...httpVariables,
  ...eventsVariables,
  // General
  {
    name: 'LOG_LEVEL',
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    default: 'info',
    doc: 'pino log level.',
  },
  {
    name: 'FLEET_HOME',
    schema: z.string().min(1),
    default: '.cache/fleet',
    doc: 'Where local services keep jars, data and pid files.',
  },
] as const satisfies readonly VariableSpec[];

export type VariableName = (typeof variables)[number]['name'];
