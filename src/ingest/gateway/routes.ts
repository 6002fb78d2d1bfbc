import { parse as parseQueryString } from 'node:querystring';
import type {
  FastifyError,
  FastifyInstance,
  FastifyPluginAsync,
  FastifyReply,
  FastifyRequest,
} from 'fastify';
import type { Counter, Registry } from 'prom-client';
import type { Position, TimeBounds } from '../../domain/position.js';
import { FleetError, ValidationError } from '../../errors.js';
import { counter, defaultRegistry } from '../../metrics.js';
import type { Publisher } from '../publisher.js';
import { errorBody } from '../../http/http-errors.js';
import { deviceToken, GatewayRefusal, rejectedCounter, type GatewayGuard } from './guard.js';
import { parseNativeBody, rejectReason } from './native.js';
import { parseOsmAndQuery, parseTraccarJson, type QueryParams } from './osmand.js';

export interface GatewayRouteOptions {
  /** Where accepted positions go; a request is answered 200 only after it acknowledged them. */
  publisher: Publisher;
  /** How long a request waits for Kafka's acknowledgement before answering 503. @default 10_000 (ms) */
  publishTimeoutMs?: number;
  /** `Retry-After` of a 503, seconds. @default 5 */
  retryAfterS?: number;
  /** Clock for defaults (missing device time) and the accepted time window. @default Date.now */
  now?: () => number;
  /** Furthest an event time may lie ahead (MAX_FUTURE_SKEW_MS). @default DEFAULT_MAX_FUTURE_MS (30 s) */
  maxFutureMs?: number;
  /** Device registry, tokens and rate limits; absent: every device and address is admitted. */
  guard?: GatewayGuard;
  /** @default defaultRegistry */
  registry?: Registry;
}

type Protocol = 'osmand' | 'traccar-json' | 'native';
type Outcome = 'accepted' | 'rejected' | 'unavailable';

function gatewayCounter(registry: Registry): Counter<'protocol' | 'outcome'> {
  return counter(registry, {
    name: 'fleet_gateway_positions_total',
    help: 'Positions received by the ingest gateway, by protocol and outcome.',
    labelNames: ['protocol', 'outcome'],
  });
}

const bounds = (options: GatewayRouteOptions, now: () => number): TimeBounds => ({
  now: now(),
  ...(options.maxFutureMs !== undefined ? { maxFutureMs: options.maxFutureMs } : {}),
});

/** The ingest routes' own answers: 400 names the field, 503 (+ Retry-After) when Kafka is down. */
function installIngestErrors(app: FastifyInstance, options: GatewayRouteOptions): void {
  const retryAfter = String(options.retryAfterS ?? 5);
  const rejected = rejectedCounter(options.registry ?? defaultRegistry);
  app.setErrorHandler((err: FastifyError | Error, request, reply) => {
    if (err instanceof GatewayRefusal) {
      if (err.retryAfterS !== undefined) void reply.header('retry-after', String(err.retryAfterS));
      return reply.code(err.status).send(errorBody(err.status, err.code, err.message));
    }
    if (err instanceof ValidationError) {
      const reason = rejectReason(err);
      rejected.inc({ reason });
      const code = reason === 'invalid' ? 'invalid_position' : reason;
      return reply.code(400).send(errorBody(400, code, err.message, err.issues[0]?.path));
    }
    if (err instanceof FleetError && err.retriable) {
      request.log.warn({ err: err.message }, 'ingest: Kafka unavailable');
      return reply
        .code(503)
        .header('retry-after', retryAfter)
        .send(errorBody(503, 'kafka_unavailable', `${err.message}; retry later`));
    }
    const status = (err as FastifyError).statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      return reply
        .code(status)
        .send(errorBody(status, (err as FastifyError).code ?? 'bad_request', err.message));
    }
    request.log.error({ err }, 'ingest request failed');
    return reply.code(500).send(errorBody(500, 'internal', 'internal error; see the server log'));
  });
}

function publishing(options: GatewayRouteOptions) {
  const counter = gatewayCounter(options.registry ?? defaultRegistry);
  const timeoutMs = options.publishTimeoutMs ?? 10_000;
  return async (protocol: Protocol, positions: Position[], rejected = 0): Promise<void> => {
    if (rejected > 0) counter.inc({ protocol, outcome: 'rejected' satisfies Outcome }, rejected);
    if (positions.length === 0) return;
    try {
      await options.publisher.publish(positions, { timeoutMs });
    } catch (err) {
      counter.inc({ protocol, outcome: 'unavailable' satisfies Outcome }, positions.length);
      throw err;
    }
    counter.inc({ protocol, outcome: 'accepted' satisfies Outcome }, positions.length);
  };
}

/** `POST /v1/positions`: one position or an array (≤ 1000) in the wire format. */
export const ingestRoutes: FastifyPluginAsync<GatewayRouteOptions> = async (app, options) => {
  installIngestErrors(app, options);
  const publish = publishing(options);
  const now = options.now ?? Date.now;
  const rejectedPositions = rejectedCounter(options.registry ?? defaultRegistry);
  app.post(
    '/v1/positions',
    {
      bodyLimit: 1024 * 1024,
      schema: {
        tags: ['ingest'],
        summary: 'Publish positions (one object or an array of up to 1000)',
        description:
          '200: all accepted and acknowledged by Kafka. 207: some items rejected (listed by index), the others ' +
          'acknowledged. 400: nothing accepted. 503 (Retry-After): Kafka did not acknowledge; retry.',
      },
    },
    async (request, reply) => {
      options.guard?.admitAddress(request.ip);
      const { accepted, rejected, batch } = parseNativeBody(request.body, bounds(options, now));
      for (const item of rejected) rejectedPositions.inc({ reason: item.reason });
      if (accepted.length === 0) {
        await publish('native', [], rejected.length);
        const first = rejected[0]!;
        const where = batch ? `[${first.index}].` : '';
        const issue = first.issues[0];
        return reply.code(400).send({
          ...errorBody(
            400,
            first.reason === 'invalid' ? 'invalid_position' : first.reason,
            `${where}${issue?.path ? `${issue.path}: ` : ''}${issue?.message ?? 'invalid'}`,
            `${where}${issue?.path ?? ''}` || undefined,
          ),
          errors: rejected,
        });
      }
      await options.guard?.admitDevices(
        accepted.map((p) => p.vehicleId),
        deviceToken(request.headers),
      );
      await publish('native', accepted, rejected.length);
      if (rejected.length === 0) return reply.code(200).send({ accepted: accepted.length, rejected: 0 });
      return reply.code(207).send({ accepted: accepted.length, rejected: rejected.length, errors: rejected });
    },
  );
};

/** The parameters of an OsmAnd request: the query, else a form (or plain) body. */
function osmAndParams(request: FastifyRequest): QueryParams {
  const query = (request.query ?? {}) as QueryParams;
  if (Object.keys(query).length > 0) return query;
  if (typeof request.body === 'string') return parseQueryString(request.body) as QueryParams;
  if (request.body && typeof request.body === 'object') return request.body as QueryParams;
  return {};
}

/** OsmAnd / Traccar Client on `/`: GET or POST with parameters, or POST with the JSON body. */
export const osmAndRoutes: FastifyPluginAsync<GatewayRouteOptions> = async (app, options) => {
  installIngestErrors(app, options);
  const publish = publishing(options);
  const now = options.now ?? Date.now;
  app.addContentTypeParser(
    ['application/x-www-form-urlencoded', 'text/plain'],
    { parseAs: 'string', bodyLimit: 64 * 1024 },
    (_request, body, done) => done(null, body),
  );
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    options.guard?.admitAddress(request.ip);
    const json = request.headers['content-type']?.startsWith('application/json') ?? false;
    const window = bounds(options, now);
    const positions = json
      ? parseTraccarJson(request.body, window)
      : [parseOsmAndQuery(osmAndParams(request), window)];
    await options.guard?.admitDevices(
      positions.map((p) => p.vehicleId),
      deviceToken(request.headers),
    );
    await publish(json ? 'traccar-json' : 'osmand', positions);
    return reply.code(200).send();
  };
  const schema = {
    tags: ['ingest'],
    summary: 'OsmAnd protocol (Traccar Client): id, lat, lon, timestamp, speed (knots), bearing, ...',
  };
  app.get('/', { schema }, handler);
  app.post('/', { schema, bodyLimit: 256 * 1024 }, handler);
};

/** Both: what the standalone gateway serves. */
export const gatewayRoutes: FastifyPluginAsync<GatewayRouteOptions> = async (app, options) => {
  await app.register(osmAndRoutes, options);
  await app.register(ingestRoutes, options);
};

/** Adds `POST /v1/positions` to a server (e.g. the query API), in its own encapsulated context. */
export function registerIngestRoutes(app: FastifyInstance, options: GatewayRouteOptions): void {
  void app.register(ingestRoutes, options);
}
