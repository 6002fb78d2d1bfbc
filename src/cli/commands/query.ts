import type { Command } from 'commander';

// Placeholder: filled in by the issue that owns this command.
export function registerQuery(_program: Command): void {}
