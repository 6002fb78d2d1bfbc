import type { FastifyInstance, FastifySchema, FastifySchemaCompiler } from 'fastify';
import { z } from 'zod';
import { ValidationError, type ValidationIssue } from '../errors.js';

/**
 * Lets fastify routes declare zod schemas: requests are validated by zod (a 400 names the
 * parameter), answers are serialised with JSON.stringify, and the OpenAPI document gets the JSON
 * Schema zod generates.
 */

const isZod = (schema: unknown): schema is z.ZodType => schema instanceof z.ZodType;

/** Validation failure of one request part, naming each bad parameter. */
export class RequestValidationError extends ValidationError {
  constructor(
    readonly part: string,
    issues: readonly ValidationIssue[],
  ) {
    super(issues);
  }

  /** The first offending parameter, e.g. `lat`. */
  get parameter(): string | undefined {
    return this.issues[0]?.path || undefined;
  }
}

function issuesOf(error: z.ZodError, data: unknown): ValidationIssue[] {
  const given = (data ?? {}) as Record<string, unknown>;
  return error.issues.map((issue) => {
    // Strict objects report unknown keys on the object itself: name them instead.
    if (issue.code === 'unrecognized_keys') {
      return { path: issue.keys.join(','), message: 'unknown parameter' };
    }
    const path = issue.path.map(String).join('.');
    const top = issue.path[0];
    const missing = issue.path.length === 1 && typeof top === 'string' && given[top] === undefined;
    return { path, message: missing ? 'is required' : issue.message };
  });
}

const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  if (!isZod(schema)) throw new Error(`route ${httpPart ?? ''} schema is not a zod schema`);
  return (data: unknown) => {
    const result = schema.safeParse(data);
    if (result.success) return { value: result.data };
    return { error: new RequestValidationError(httpPart ?? 'request', issuesOf(result.error, data)) };
  };
};

/** Installs the zod validator and a plain JSON serialiser on an instance. */
export function useZodSchemas(app: FastifyInstance): void {
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
}

function toJsonSchema(schema: unknown, io: 'input' | 'output'): unknown {
  if (!isZod(schema)) return schema;
  const json = z.toJSONSchema(schema, { target: 'openapi-3.0', io, unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  delete json.$schema;
  return json;
}

/** @fastify/swagger `transform`: zod route schemas → JSON Schema. */
export function swaggerTransform({ schema, url }: { schema: FastifySchema; url: string }): {
  schema: FastifySchema;
  url: string;
} {
  if (!schema) return { schema, url };
  const out: Record<string, unknown> = { ...schema };
  for (const part of ['params', 'querystring', 'body', 'headers'] as const) {
    if (schema[part]) out[part] = toJsonSchema(schema[part], 'input');
  }
  if (schema.response && typeof schema.response === 'object') {
    out.response = Object.fromEntries(
      Object.entries(schema.response as Record<string, unknown>).map(([code, s]) => [
        code,
        toJsonSchema(s, 'output'),
      ]),
    );
  }
  return { schema: out as FastifySchema, url };
}
