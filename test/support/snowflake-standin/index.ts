import { generateKeyPairSync } from 'node:crypto';

export { publicKeyFingerprint, type StandinUser } from './auth.js';
export type { FaultKind, FaultFilter } from './faults.js';
export { SnowflakeStandin, startSnowflakeStandin, type StandinOptions, type LoginAttempt } from './server.js';

/** A fresh RSA key pair as `openssl genrsa | openssl pkcs8` would give (optionally encrypted). */
export function generateKeyPair(passphrase?: string): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: passphrase
      ? { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase }
      : { type: 'pkcs8', format: 'pem' },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}
