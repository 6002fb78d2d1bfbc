import { createHash, createPublicKey, timingSafeEqual, verify } from 'node:crypto';

/** A user of the stand-in account: key-pair (public key registered) and/or password. */
export interface StandinUser {
  name: string;
  /** PEM public key, as `ALTER USER ... SET RSA_PUBLIC_KEY = '...'` registers it. */
  publicKeyPem?: string;
  password?: string;
}

/** A login refused the way Snowflake refuses it (GS code + message, HTTP 200, success false). */
export class LoginError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** `SHA256:<base64>` of the DER SubjectPublicKeyInfo: Snowflake's RSA_PUBLIC_KEY_FP. */
export function publicKeyFingerprint(publicKeyPem: string): string {
  const der = createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' });
  return `SHA256:${createHash('sha256').update(der).digest('base64')}`;
}

function b64url(part: string): Buffer {
  return Buffer.from(part, 'base64url');
}

/**
 * Verifies the key-pair JWT like Snowflake: RS256 signature by the user's registered key, issuer
 * `ACCOUNT.USER.SHA256:<fingerprint of that key>`, subject `ACCOUNT.USER`, not expired.
 */
export function verifyKeyPairToken(
  token: string,
  account: string,
  user: StandinUser,
  now = Date.now(),
): void {
  const invalid = (why: string) => new LoginError('390144', `JWT token is invalid. [${why}]`);
  if (!user.publicKeyPem) throw invalid('no public key registered for the user');
  const parts = token.split('.');
  if (parts.length !== 3) throw invalid('malformed');
  const [h, p, s] = parts as [string, string, string];
  let header: { alg?: string };
  let payload: { iss?: string; sub?: string; exp?: number; iat?: number };
  try {
    header = JSON.parse(b64url(h).toString('utf8')) as typeof header;
    payload = JSON.parse(b64url(p).toString('utf8')) as typeof payload;
  } catch {
    throw invalid('malformed');
  }
  if (header.alg !== 'RS256') throw invalid(`alg ${header.alg}`);
  const signed = verify(
    'RSA-SHA256',
    Buffer.from(`${h}.${p}`),
    createPublicKey(user.publicKeyPem),
    b64url(s),
  );
  if (!signed) throw invalid('signature does not match the registered public key');
  const subject = `${account.toUpperCase()}.${user.name.toUpperCase()}`;
  if (payload.sub !== subject) throw invalid(`subject ${payload.sub}`);
  if (payload.iss !== `${subject}.${publicKeyFingerprint(user.publicKeyPem)}`)
    throw invalid('issuer fingerprint');
  // The Node.js driver sends exp/iat in milliseconds, other drivers in seconds: accept both.
  const exp = payload.exp ?? 0;
  const expMs = exp > 1e11 ? exp : exp * 1000;
  if (expMs < now) throw invalid('expired');
}

export function verifyPassword(user: StandinUser, password: unknown): void {
  const given = Buffer.from(typeof password === 'string' ? password : '');
  const expected = Buffer.from(user.password ?? '');
  if (!user.password || given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new LoginError('390100', 'Incorrect username or password was specified.');
  }
}
