import { Command } from 'commander';
import { registerBench } from './commands/bench.js';
import { registerConfig } from './commands/config.js';
import { registerDev } from './commands/dev.js';
import { registerFaults } from './commands/faults.js';
import { registerGateway } from './commands/gateway.js';
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
    registerProcess,
    registerReplay,
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
  process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';
  await buildProgram().parseAsync(argv);
}
