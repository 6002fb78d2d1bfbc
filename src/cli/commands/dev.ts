import type { Command } from 'commander';

// Placeholder: filled in by the issue that owns this command.
export function registerDev(_program: Command): void {}
