/**
 * The one errors module. Every error the project throws on purpose is a {@link FleetError}: it says
 * whether retrying can help (`retriable`) and keeps the underlying `cause`. Retry helpers only retry
 * retriable errors.
 */

export interface FleetErrorOptions {
  cause?: unknown;
  /** Whether the same operation may succeed if tried again later. @default false */
  retriable?: boolean;
}

export class FleetError extends Error {
  readonly retriable: boolean;

  constructor(message: string, options: FleetErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retriable = options.retriable ?? false;
  }
}

/** Bad configuration: names the variable and, where possible, the fix. Fails start-up. */
export class ConfigError extends FleetError {
  constructor(
    readonly variable: string,
    message: string,
    options: FleetErrorOptions = {},
  ) {
    super(`${variable}: ${message}`, options);
  }
}

/** One field-level problem of an invalid input. */
export interface ValidationIssue {
  path: string;
  message: string;
}

/** Input that is well-formed but breaks the position schema (range, type, bounds). */
export class ValidationError extends FleetError {
  constructor(readonly issues: readonly ValidationIssue[]) {
    super(issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; '));
  }
}

/** Bytes that are not a position at all (not JSON, binary garbage, too large). */
export class DecodeError extends FleetError {}

/** Where a Kafka record came from; carried by errors about that record. */
export interface RecordCoordinates {
  topic: string;
  partition: number;
  offset: string;
}

/** A sink (Redis table, warehouse, DLQ) failed to make a batch durable. */
export class SinkError extends FleetError {
  constructor(
    readonly sink: string,
    message: string,
    options: FleetErrorOptions = {},
  ) {
    super(`${sink}: ${message}`, options);
  }
}

/** Kafka did not acknowledge a write or could not be reached. */
export class KafkaUnavailableError extends FleetError {
  constructor(message: string, options: FleetErrorOptions = {}) {
    super(message, { retriable: true, ...options });
  }
}

/** A vehicle (or other entity) the caller asked for does not exist. */
export class NotFoundError extends FleetError {
  constructor(
    readonly entity: string,
    readonly id: string,
  ) {
    super(`${entity} '${id}' not found`);
  }
}

/** A local service (broker, Redis) could not be provisioned or started; says what to install. */
export class ServiceError extends FleetError {}

export function isRetriable(err: unknown): boolean {
  return err instanceof FleetError ? err.retriable : false;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The schema registry refused a request or could not be reached. `retriable` when it is down or
 * overloaded (network error, 5xx, 429); not for a refusal (incompatible schema, unknown id: `status`
 * 409 / 404 and the registry's `errorCode`).
 */
export class SchemaRegistryError extends FleetError {
  constructor(
    message: string,
    readonly status?: number,
    readonly errorCode?: number,
    options: FleetErrorOptions = {},
  ) {
    super(message, options);
  }
}
