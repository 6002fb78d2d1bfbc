import type { z } from 'zod';

/**
 * Every environment variable the project reads, with its default and meaning. docs/configuration.md
 * is generated from this list (`npm run docs:config`), and a test fails when it is out of date.
 */
export interface VariableSpec {
  name: string;
  schema: z.ZodType;
  default?: string;
  doc: string;
  secret?: boolean;
}
