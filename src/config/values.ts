import type { z } from 'zod';
import { ConfigError } from '../errors.js';
import { variables, type VariableName } from './variables.js';

export type RawConfig = Readonly<Partial<Record<VariableName, string | undefined>>>;

/** Reads the raw values: environment first, then flags (flags win). Nothing is converted yet. */
export function readRawConfig(env: NodeJS.ProcessEnv = process.env, flags: RawConfig = {}): RawConfig {
  const raw: Partial<Record<VariableName, string>> = {};
  for (const v of variables) {
    const value = flags[v.name] ?? env[v.name];
    if (value !== undefined && value !== '') raw[v.name] = value;
  }
  return raw;
}

type Spec = (typeof variables)[number];
/** Every variable's value after its schema (defaults applied), typed from the schemas themselves. */
export type ConfigValues = { readonly [S in Spec as S['name']]: z.output<S['schema']> };

export function parseValues(raw: RawConfig): ConfigValues {
  const out: Record<string, unknown> = {};
  for (const v of variables) {
    const input = raw[v.name] ?? ('default' in v ? v.default : undefined);
    const result = (v.schema as z.ZodType).safeParse(input);
    if (!result.success) {
      const why = result.error.issues.map((i) => i.message).join('; ');
      // A secret is never echoed: the message lands in logs.
      const shown = 'secret' in v && v.secret ? '(hidden)' : JSON.stringify(input);
      throw new ConfigError(v.name, `invalid value ${shown}: ${why}. ${v.doc}`);
    }
    out[v.name] = result.data;
  }
  // Each entry was produced by its own variable's schema just above.
  return out as ConfigValues;
}
