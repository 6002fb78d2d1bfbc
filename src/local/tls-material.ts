import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ServiceError } from '../errors.js';
import { commandExists } from './processes.js';

/** A throwaway CA and a broker certificate it signed, for the local SASL_SSL listener. */
export interface TlsMaterial {
  /** PEM of the CA: what clients trust (KAFKA_SSL_CA_FILE). */
  caFile: string;
  /** PKCS#12 keystore of the broker (key + chain), for `ssl.keystore.location`. */
  keystoreFile: string;
  keystorePassword: string;
}

function openssl(args: string[], cwd: string): void {
  const result = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (result.status !== 0) {
    throw new ServiceError(`openssl ${args[0]} failed: ${(result.stderr || result.stdout).slice(-1000)}`);
  }
}

/**
 * Makes a CA (valid 2 days) and a broker certificate for 127.0.0.1 / localhost signed by it, under
 * `dir`. New each start: nothing here is a secret worth keeping, and an old CA must not be trusted.
 */
export function makeTlsMaterial(dir: string): TlsMaterial {
  if (!commandExists('openssl')) {
    throw new ServiceError(
      'openssl not found: the secure local broker needs it (Debian: apt-get install -y openssl)',
    );
  }
  mkdirSync(dir, { recursive: true });
  const password = randomBytes(12).toString('hex');
  const days = '2';
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      days,
      '-subj',
      '/CN=fleet-tracker local CA',
    ],
    dir,
  );
  writeFileSync(
    path.join(dir, 'broker.ext'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n',
  );
  openssl(
    [
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'broker.key',
      '-out',
      'broker.csr',
      '-subj',
      '/CN=localhost',
    ],
    dir,
  );
  openssl(
    [
      'x509',
      '-req',
      '-in',
      'broker.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'broker.pem',
      '-days',
      days,
      '-extfile',
      'broker.ext',
    ],
    dir,
  );
  openssl(
    [
      'pkcs12',
      '-export',
      '-in',
      'broker.pem',
      '-inkey',
      'broker.key',
      '-certfile',
      'ca.pem',
      '-name',
      'broker',
      '-out',
      'broker.p12',
      '-passout',
      `pass:${password}`,
    ],
    dir,
  );
  const material = {
    caFile: path.join(dir, 'ca.pem'),
    keystoreFile: path.join(dir, 'broker.p12'),
    keystorePassword: password,
  };
  if (!existsSync(material.keystoreFile)) throw new ServiceError(`no keystore was written to ${dir}`);
  return material;
}
