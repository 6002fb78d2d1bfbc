import type { FastifyError, FastifyInstance } from 'fastify';
import { FleetError, NotFoundError, ValidationError } from '../errors.js';
import { RequestValidationError } from './validation.js';

/** The JSON body of every error answer. */
export interface ErrorBody {
  statusCode: number;
  error: string;
  code: string;
  message: string;
  parameter?: string;
}

const reasons: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function errorBody(statusCode: number, code: string, message: string, parameter?: string): ErrorBody {
  return {
    statusCode,
    error: reasons[statusCode] ?? 'Error',
    code,
    message,
    ...(parameter ? { parameter } : {}),
  };
}

/** Maps our errors to answers: 400 names the parameter, 404 the entity, retriable failures are 503. */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | Error, request, reply) => {
    if (err instanceof RequestValidationError) {
      return reply.code(400).send(errorBody(400, 'invalid_parameter', err.message, err.parameter));
    }
    if (err instanceof ValidationError) {
      return reply.code(400).send(errorBody(400, 'invalid_parameter', err.message, err.issues[0]?.path));
    }
    if (err instanceof NotFoundError) {
      return reply.code(404).send(errorBody(404, 'not_found', err.message));
    }
    if (err instanceof FleetError && err.retriable) {
      request.log.warn({ err }, 'dependency unavailable');
      return reply
        .code(503)
        .header('retry-after', '1')
        .send(errorBody(503, 'unavailable', err.message));
    }
    const status = (err as FastifyError).statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      return reply
        .code(status)
        .send(errorBody(status, (err as FastifyError).code ?? 'bad_request', err.message));
    }
    request.log.error({ err }, 'request failed');
    return reply.code(500).send(errorBody(500, 'internal', 'internal error; see the server log'));
  });
  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .send(errorBody(404, 'no_route', `no route ${request.method} ${request.url.split('?')[0]}`)),
  );
}
