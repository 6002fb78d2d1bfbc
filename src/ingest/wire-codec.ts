import type { Config } from '../config/config.js';
import { avroCodec } from '../domain/avro-codec.js';
import { jsonCodec, type PositionCodec } from '../domain/codec.js';
import { POSITION_AVRO_V1, PositionAvroType, positionSubject } from '../domain/position-avro.js';
import { SchemaRegistryError } from '../errors.js';
import type { Logger } from '../logger.js';
import { retry } from '../retry.js';
import { SchemaRegistryClient } from '../kafka/schema-registry.js';

export interface RegisterOptions {
  /** Attempts after the first while the registry is unreachable. @default 5 */
  retries?: number;
  logger?: Logger;
}

/**
 * Registers (or looks up) a position schema under the topic's value subject and returns the Avro
 * codec that frames records with its id — the one registry round trip a producer makes: after
 * this, publishing never waits for the registry. A subject without its own compatibility level
 * gets BACKWARD first, so every later version must read what earlier ones wrote; a schema the
 * registry refuses (incompatible, invalid) fails with the registry's reason.
 */
export async function registerAvroCodec(
  client: Pick<SchemaRegistryClient, 'register' | 'compatibility' | 'setCompatibility'>,
  subject: string,
  schema: object = POSITION_AVRO_V1,
  options: RegisterOptions = {},
): Promise<PositionCodec> {
  const type = new PositionAvroType(schema);
  const attempt = <T>(fn: () => Promise<T>) =>
    retry(fn, {
      retries: options.retries ?? 5,
      onRetry: ({ attempt: n, error }) =>
        options.logger?.warn(
          { subject, attempt: n, err: (error as Error).message },
          'schema registry unavailable',
        ),
    });
  if ((await attempt(() => client.compatibility(subject))) === null) {
    await attempt(() => client.setCompatibility(subject, 'BACKWARD'));
  }
  try {
    const id = await attempt(() => client.register(subject, schema));
    options.logger?.info({ subject, schemaId: id }, 'position schema registered');
    return avroCodec(id, type);
  } catch (err) {
    if (err instanceof SchemaRegistryError && (err.status === 409 || err.status === 422)) {
      throw new SchemaRegistryError(
        `the registry refused this position schema for subject '${subject}' (${err.status === 409 ? 'incompatible with the versions already registered under its compatibility level' : 'invalid schema'}): ${err.message}`,
        err.status,
        err.errorCode,
        { cause: err },
      );
    }
    throw err;
  }
}

/** The registry client of the configuration; undefined without SCHEMA_REGISTRY_URL. */
export function schemaRegistryClient(config: Readonly<Config>): SchemaRegistryClient | undefined {
  return config.schemaRegistry ? new SchemaRegistryClient(config.schemaRegistry) : undefined;
}

/** The codec producers use: JSON, or Avro registered once at start (WIRE_FORMAT=avro). */
export async function wireCodec(config: Readonly<Config>, logger: Logger): Promise<PositionCodec> {
  const client = schemaRegistryClient(config);
  if (config.wireFormat === 'json' || !client) return jsonCodec;
  return registerAvroCodec(client, positionSubject(config.topic.name), POSITION_AVRO_V1, { logger });
}
