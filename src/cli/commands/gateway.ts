import type { Command } from 'commander';

// Placeholder: filled in by the issue that owns this command.
export function registerGateway(_program: Command): void {}
