import { z } from 'zod';

/** Zod schemas shared by the variable tables (`variables-*.ts`). */
export const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);
export const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => ['true', '1', 'yes'].includes(v));
export const list = z.string().transform((v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);
export const hostPort = z.string().regex(/^[^\s:,]+:\d{1,5}$/, 'expected host:port');
export const brokers = list.pipe(z.array(hostPort).min(1, 'at least one broker host:port'));
/** A DuckDB size setting, e.g. `128MB` or `1GB`. */
export const size = z
  .string()
  .regex(/^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i, 'a size such as 128MB or 1GB');
export const topicName = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,249}$/, 'letters, digits, ".", "_" or "-" (max 249)');

/** A browser origin exactly as a browser sends it: `scheme://host[:port]`, no path or trailing slash. */
function isOrigin(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === text;
  } catch {
    return false;
  }
}

/** Allowed CORS origins: empty (off), `*` on its own (any origin), or a list of exact origins. */
export const corsOrigins = list.pipe(
  z
    .array(
      z
        .string()
        .refine(
          (x) => x === '*' || isOrigin(x),
          'each entry must be an origin: scheme://host[:port], no path or trailing slash',
        ),
    )
    .refine((xs) => !xs.includes('*') || xs.length === 1, '`*` allows every origin and cannot be combined'),
);

/** At least 32 characters: shorter secrets are guessable (`openssl rand -hex 24` makes one). */
const MIN_KEY_LENGTH = 32;
const keyRule = `at least ${MIN_KEY_LENGTH} characters (e.g. \`openssl rand -hex 24\`)`;
export const secretKey = z.string().min(MIN_KEY_LENGTH, `must be ${keyRule}`);
export const keys = list.pipe(z.array(z.string().min(MIN_KEY_LENGTH, `each key must be ${keyRule}`)));
