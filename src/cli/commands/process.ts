import type { Command } from 'commander';

// Placeholder: filled in by the issue that owns this command.
export function registerProcess(_program: Command): void {}
