import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

/** What a presented stream token turned out to be. */
export type StreamTokenCheck = 'ok' | 'expired' | 'invalid';

export interface IssuedStreamToken {
  token: string;
  /** Epoch ms after which the token no longer opens a stream. */
  expiresAt: number;
}

export interface StreamTokenOptions {
  /** HMAC key; every API replica that must accept a token needs the same one. */
  secret: Uint8Array;
  /** Lifetime of a token, ms (STREAM_TOKEN_TTL_MS). */
  ttlMs: number;
  /** @default Date.now */
  now?: () => number;
}

const VERSION = 'st1';
/** The only scope so far: opening `/v1/stream`. Part of the signed text, so a token of another future scope cannot be replayed here. */
const SCOPE = 'stream';

/**
 * Short-lived, HMAC-signed tokens that let a browser open the live stream without putting its API
 * key in a URL (EventSource cannot send headers, and URLs end up in logs and histories).
 * Stateless: `st1.<expiry, base36 ms>.<nonce>.<HMAC-SHA256 of version, scope, expiry, nonce>`, so
 * any replica holding the same secret verifies it and nothing is stored.
 */
export class StreamTokens {
  private readonly now: () => number;

  constructor(private readonly options: StreamTokenOptions) {
    this.now = options.now ?? Date.now;
  }

  /**
   * The signing key derived (HKDF) from the API keys, so replicas sharing API_KEYS accept each
   * other's tokens without another secret to deploy; no keys (auth off): a random per-process key.
   * Changing API_KEYS invalidates outstanding tokens, which live minutes anyway.
   */
  static fromApiKeys(apiKeys: readonly string[], ttlMs: number, now?: () => number): StreamTokens {
    const secret =
      apiKeys.length === 0
        ? randomBytes(32)
        : Buffer.from(
            hkdfSync('sha256', [...apiKeys].sort().join('\n'), 'fleet-tracker', 'stream-token/v1', 32),
          );
    return new StreamTokens({ secret, ttlMs, ...(now ? { now } : {}) });
  }

  get ttlMs(): number {
    return this.options.ttlMs;
  }

  issue(): IssuedStreamToken {
    const expiresAt = this.now() + this.options.ttlMs;
    const head = `${VERSION}.${expiresAt.toString(36)}.${randomBytes(12).toString('base64url')}`;
    return { token: `${head}.${this.sign(head)}`, expiresAt };
  }

  /** Forged, malformed or signed with another key: `invalid`; genuine but past its expiry: `expired`. */
  verify(token: string): StreamTokenCheck {
    const parts = token.split('.');
    if (parts.length !== 4 || parts[0] !== VERSION) return 'invalid';
    const head = parts.slice(0, 3).join('.');
    const given = Buffer.from(parts[3]!, 'base64url');
    const expected = Buffer.from(this.sign(head), 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'invalid';
    const expiresAt = parseInt(parts[1]!, 36);
    if (!Number.isSafeInteger(expiresAt)) return 'invalid';
    return this.now() < expiresAt ? 'ok' : 'expired';
  }

  private sign(head: string): string {
    return createHmac('sha256', this.options.secret).update(`${SCOPE}|${head}`).digest('base64url');
  }
}
