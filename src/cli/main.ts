import { Command } from 'commander';
import { quietLibraryNotices } from '../config/index.js';
import { registerBench } from './commands/bench.js';
import { registerConfig } from './commands/config.js';
import { registerDev } from './commands/dev.js';
import { registerDevices } from './commands/devices.js';
import { registerDlq } from './commands/dlq.js';
import { registerEvents } from './commands/events.js';
import { registerEventsProcess } from './commands/events-process.js';
import { registerFaults } from './commands/faults.js';
import { registerGateway } from './commands/gateway.js';
import { registerGeofences } from './commands/geofences.js';
import { registerProcess } from './commands/process.js';
import { registerQuery } from './commands/query.js';
import { registerReplay } from './commands/replay.js';
import { registerServe } from './commands/serve.js';
import { registerServices } from './commands/services.js';
import { registerSimulate } from './commands/simulate.js';
import { registerTopics } from './commands/topics.js';

export function buildProgram(): Command {
  const program = new Command('fleet')
    .description('fleet-tracker: real-time vehicle tracking on Apache Kafka')
    .showHelpAfterError()
    .enablePositionalOptions();
  for (const register of [
    registerServices,
    registerTopics,
    registerConfig,
    registerSimulate,
    registerGateway,
    registerDevices,
    registerProcess,
    registerEventsProcess,
    registerGeofences,
    registerEvents,
    registerReplay,
    registerDlq,
    registerServe,
    registerQuery,
    registerDev,
    registerBench,
    registerFaults,
  ]) {
    register(program);
  }
  return program;
}

export async function main(argv: string[]): Promise<void> {
  quietLibraryNotices();
  await buildProgram().parseAsync(argv);
}
