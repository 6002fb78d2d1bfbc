import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ServiceError } from '../src/errors.js';
import type { Logger } from '../src/logger.js';
import { commandExists } from '../src/local/processes.js';
import { runCaptured } from './child-process.js';

const PEER_DIR = fileURLToPath(new URL('peer', import.meta.url));
/** Built peers, one folder per source hash (outside the bench's home, which each run wipes). */
const CACHE = path.resolve('.cache', 'fleet-bench-peer');

/** Every file the build reads (pom and sources), sorted, for the cache key. */
function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const file = path.join(dir, name);
    if (name === 'target') continue;
    if (statSync(file).isDirectory()) out.push(...sourceFiles(file));
    else out.push(file);
  }
  return out;
}

/** A short hash of the peer's sources: a change of any of them means a rebuild. */
export function peerSourceHash(dir = PEER_DIR): string {
  const hash = createHash('sha256');
  for (const file of sourceFiles(dir)) {
    hash.update(path.relative(dir, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * The peer's runnable jar (its dependencies in `lib/` beside it, named by the manifest), built with
 * Maven once per source hash: offline first (everything already in ~/.m2), online when that fails.
 */
export async function ensurePeerJar(logger: Logger): Promise<{ jar: string; built: boolean; ms: number }> {
  const started = performance.now();
  const dir = path.join(CACHE, peerSourceHash());
  const jar = path.join(dir, 'streams-peer.jar');
  if (existsSync(jar)) return { jar, built: false, ms: 0 };
  if (!commandExists('mvn'))
    throw new ServiceError('Maven is required to build the Kafka Streams peer: apt-get install -y maven');
  const staging = `${dir}.partial-${process.pid}`;
  const build = (offline: boolean) =>
    runCaptured(
      'mvn',
      [
        '-q',
        '-B',
        ...(offline ? ['-o'] : []),
        '-f',
        path.join(PEER_DIR, 'pom.xml'),
        'package',
        `-Dpeer.buildDir=${staging}`,
      ],
      { timeoutMs: 10 * 60_000 },
    );
  rmSync(staging, { recursive: true, force: true });
  let out = await build(true);
  if (out.code !== 0) {
    logger.info('offline build of the peer failed (dependencies not in ~/.m2 yet): building online');
    rmSync(staging, { recursive: true, force: true });
    out = await build(false);
  }
  if (out.code !== 0 || !existsSync(path.join(staging, 'streams-peer.jar'))) {
    rmSync(staging, { recursive: true, force: true });
    throw new ServiceError(
      `mvn package of bench/peer failed (exit ${out.code}):\n${(out.stdout + out.stderr).slice(-2000)}`,
    );
  }
  rmSync(path.join(staging, 'classes'), { recursive: true, force: true });
  renameSync(staging, dir);
  const ms = Math.round(performance.now() - started);
  logger.info({ jar, s: Math.round(ms / 100) / 10 }, 'built the Kafka Streams peer');
  return { jar, built: true, ms };
}
