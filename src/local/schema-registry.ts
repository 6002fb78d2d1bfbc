import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { processEnv } from '../config/environment.js';
import { ServiceError } from '../errors.js';
import type { Logger } from '../logger.js';
import { commandExists, freePort, isAlive, spawnDetached, stopProcess } from './processes.js';

/** Apicurio Registry release run locally; its `-all.tar.gz` on Maven Central is a Quarkus fast-jar app. */
export const APICURIO_VERSION = '3.3.3';
const ARTIFACT = `io.apicurio:apicurio-registry-app:${APICURIO_VERSION}:tar.gz:all`;
/** Apicurio 3 is built for Java 21. */
const MIN_JAVA = 21;
/** Where the Confluent-compatible API lives below the registry's root. */
export const CCOMPAT_PATH = '/apis/ccompat/v7';

export interface LocalSchemaRegistry {
  url: string;
  pid: number;
  port: number;
}

function javaMajor(java: string): number | null {
  const out = spawnSync(java, ['-version'], { encoding: 'utf8' });
  const match = /version "(\d+)/.exec(out.stderr ?? '');
  return match ? Number(match[1]) : null;
}

/**
 * A `java` of version 21+: JAVA_HOME when it is one, else the newest JDK under /usr/lib/jvm (this
 * machine kind ships Temurin beside the default OpenJDK 17), else `java` on the PATH.
 */
export function findJava21(env: NodeJS.ProcessEnv = processEnv(), jvmRoot = '/usr/lib/jvm'): string {
  const candidates: string[] = [];
  if (env.JAVA_HOME) candidates.push(path.join(env.JAVA_HOME, 'bin', 'java'));
  if (existsSync(jvmRoot)) {
    const dirs = readdirSync(jvmRoot)
      .filter((d) => existsSync(path.join(jvmRoot, d, 'bin', 'java')))
      .sort((a, b) => Number(/\d+/.exec(b)?.[0] ?? 0) - Number(/\d+/.exec(a)?.[0] ?? 0));
    candidates.push(...dirs.map((d) => path.join(jvmRoot, d, 'bin', 'java')));
  }
  if (commandExists('java')) candidates.push('java');
  for (const java of candidates) {
    if ((javaMajor(java) ?? 0) >= MIN_JAVA) return java;
  }
  throw new ServiceError(
    `Apicurio Registry needs Java ${MIN_JAVA}+ and none was found (JAVA_HOME, /usr/lib/jvm/*, PATH): ` +
      'install one (Debian: apt-get install -y temurin-21-jdk from the Adoptium apt repository, or ' +
      'openjdk-21-jre-headless where the release has it) and/or set JAVA_HOME to it, ' +
      'or set SCHEMA_REGISTRY_URL to an existing registry.',
  );
}

/** The unpacked registry (`quarkus-run.jar` inside), fetched from Maven Central once. */
export function ensureApicurio(cacheDir: string, logger: Logger): string {
  const dir = path.resolve(cacheDir, `apicurio-registry-${APICURIO_VERSION}`);
  if (existsSync(path.join(dir, 'quarkus-run.jar'))) return dir;
  if (!commandExists('mvn')) {
    throw new ServiceError(
      'Maven is required to fetch Apicurio Registry once: install it (Debian: apt-get install -y maven), or set SCHEMA_REGISTRY_URL to an existing registry.',
    );
  }
  logger.info({ dir, artifact: ARTIFACT }, 'fetching Apicurio Registry from Maven Central (once)');
  const staging = `${dir}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const fetched = spawnSync(
    'mvn',
    ['-q', '-B', 'dependency:copy', `-Dartifact=${ARTIFACT}`, `-DoutputDirectory=${staging}`],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const tarball = path.join(staging, `apicurio-registry-app-${APICURIO_VERSION}-all.tar.gz`);
  if (fetched.status !== 0 || !existsSync(tarball)) {
    rmSync(staging, { recursive: true, force: true });
    throw new ServiceError(
      `mvn dependency:copy ${ARTIFACT} failed (exit ${fetched.status}):\n${(fetched.stdout + fetched.stderr).slice(-2000)}`,
    );
  }
  const unpacked = spawnSync('tar', ['xzf', tarball, '-C', staging], { encoding: 'utf8' });
  rmSync(tarball, { force: true });
  if (unpacked.status !== 0) {
    rmSync(staging, { recursive: true, force: true });
    throw new ServiceError(`could not unpack ${tarball}: ${unpacked.stderr}`);
  }
  // Atomic publish: a concurrent start never sees a half-unpacked folder.
  try {
    renameSync(staging, dir);
  } catch {
    rmSync(staging, { recursive: true, force: true });
  }
  return dir;
}

/**
 * Starts Apicurio Registry (in-memory H2 storage) on a free 127.0.0.1 port and waits until its
 * Confluent-compatible API answers. The app is cached in `<home>/cache`, its log in
 * `<home>/schema-registry` (both overridable). Start-up takes 10–90 s depending on load (a JVM + Quarkus).
 */
export async function startSchemaRegistry(
  home: string,
  logger: Logger,
  options: { cacheDir?: string; dataDir?: string } = {},
): Promise<LocalSchemaRegistry> {
  const java = findJava21();
  const app = ensureApicurio(options.cacheDir ?? path.join(home, 'cache'), logger);
  const dir = path.resolve(options.dataDir ?? path.join(home, 'schema-registry'));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const log = path.join(dir, 'registry.log');
  const pid = spawnDetached(
    java,
    [
      '-Xmx512m',
      '-XX:+UseSerialGC',
      '-XX:TieredStopAtLevel=1',
      `-Dquarkus.http.port=${port}`,
      '-Dquarkus.http.host=127.0.0.1',
      // Its management interface would take the fixed port 9000 on every address.
      '-Dquarkus.management.enabled=false',
      '-Dapicurio.storage.kind=sql',
      '-Dapicurio.storage.sql.kind=h2',
      '-Dquarkus.log.level=WARN',
      '-jar',
      path.join(app, 'quarkus-run.jar'),
    ],
    log,
  );
  const url = `http://127.0.0.1:${port}${CCOMPAT_PATH}`;
  const deadline = Date.now() + 240_000;
  for (;;) {
    if (!isAlive(pid)) throw new ServiceError(`Apicurio Registry exited; see ${log}`);
    const ok = await fetch(`${url}/subjects`, { signal: AbortSignal.timeout(2000) }).then(
      (res) => res.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) {
      await stopProcess(pid, 5000);
      throw new ServiceError(
        `timed out after 240 s waiting for Apicurio Registry on port ${port}; see ${log}`,
      );
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return { url, pid, port };
}

export async function stopSchemaRegistry(registry: LocalSchemaRegistry): Promise<void> {
  await stopProcess(registry.pid, 10_000);
}
