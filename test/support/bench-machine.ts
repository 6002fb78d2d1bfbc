import type { MachineInfo } from '../../bench/machine.js';

/** The machine every bench report test renders: fixed, so tables compare byte for byte. */
export const testMachine: MachineInfo = {
  cpu: 'Test CPU',
  cores: 2,
  memoryGb: 8,
  os: 'Linux',
  node: 'v20',
  java: 'openjdk 17',
  kafka: '4.1.1',
  redis: '7.0',
  loadAtStart: 0.5,
  concurrentTestProcesses: 0,
};
