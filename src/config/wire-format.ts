import { ConfigError } from '../errors.js';
import type { ConfigValues } from './values.js';

export interface SchemaRegistryConfig {
  url: string;
  auth?: { username: string; password: string };
}

/** WIRE_FORMAT and the schema registry, cross-checked: Avro needs a registry. */
export function wireFormatFrom(v: ConfigValues): {
  wireFormat: 'json' | 'avro';
  schemaRegistry?: SchemaRegistryConfig;
} {
  const wireFormat = v.WIRE_FORMAT;
  const url = v.SCHEMA_REGISTRY_URL;
  const username = v.SCHEMA_REGISTRY_USERNAME;
  const password = v.SCHEMA_REGISTRY_PASSWORD;
  if (wireFormat === 'avro' && !url) {
    throw new ConfigError(
      'SCHEMA_REGISTRY_URL',
      'is required with WIRE_FORMAT=avro (start a local one with `fleet services up --schema-registry`)',
    );
  }
  if ((username === undefined) !== (password === undefined)) {
    throw new ConfigError(
      username === undefined ? 'SCHEMA_REGISTRY_USERNAME' : 'SCHEMA_REGISTRY_PASSWORD',
      'set both SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD, or neither',
    );
  }
  if (!url) return { wireFormat };
  return {
    wireFormat,
    schemaRegistry: { url, ...(username && password ? { auth: { username, password } } : {}) },
  };
}
