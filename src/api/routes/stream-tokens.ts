import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { StreamTokens } from '../../http/stream-tokens.js';
import { ErrorAnswer } from '../schemas.js';

const TokenAnswer = z.object({
  token: z.string().describe('Pass as `?token=` to GET /v1/stream'),
  expiresAt: z.string().describe('ISO-8601; a stream must be opened before then (an open one stays open)'),
  expiresInS: z.number(),
});

/**
 * `POST /v1/stream-tokens` (behind the API key): a short-lived token that opens `GET /v1/stream`,
 * so a browser's EventSource never carries the API key in its URL.
 */
export function registerStreamTokenRoute(app: FastifyInstance, tokens: StreamTokens): void {
  app.post(
    '/v1/stream-tokens',
    {
      schema: {
        tags: ['live'],
        summary: 'Issue a short-lived token for the live stream',
        description:
          'The token opens GET /v1/stream as `?token=` until it expires (STREAM_TOKEN_TTL_MS, 5 min); it is good for nothing else. An expired or forged token is a 401.',
        response: { 201: TokenAnswer, 401: ErrorAnswer },
      },
    },
    async (_request, reply) => {
      const { token, expiresAt } = tokens.issue();
      return reply.code(201).send({
        token,
        expiresAt: new Date(expiresAt).toISOString(),
        expiresInS: Math.round(tokens.ttlMs / 1000),
      });
    },
  );
}
