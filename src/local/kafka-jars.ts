import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ServiceError } from '../errors.js';
import type { Logger } from '../logger.js';
import { commandExists } from './processes.js';

const POM = fileURLToPath(new URL('../../kafka/pom.xml', import.meta.url));

/** Kafka version pinned in kafka/pom.xml. */
export function pinnedKafkaVersion(): string {
  const match = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(readFileSync(POM, 'utf8'));
  if (!match?.[1]) throw new ServiceError(`no <kafka.version> in ${POM}`);
  return match[1];
}

export function requireJava(): void {
  if (!commandExists('java')) {
    throw new ServiceError(
      'Java 17+ is required to run the local Kafka broker: install it (Debian: apt-get install -y openjdk-17-jre-headless) or set KAFKA_BROKERS to an existing cluster.',
    );
  }
  const out = spawnSync('java', ['-version'], { encoding: 'utf8' });
  const match = /version "(\d+)/.exec(out.stderr ?? '');
  if (match && Number(match[1]) < 17) {
    throw new ServiceError(
      `Java ${match[1]} found; Kafka 4 needs Java 17+ (apt-get install -y openjdk-17-jre-headless).`,
    );
  }
}

/**
 * Directory whose jars form the broker's classpath. KAFKA_HOME (an unpacked Kafka distribution)
 * wins; otherwise the jars are resolved from Maven Central once into `<home>/kafka-<version>/libs`.
 */
export function ensureKafkaLibs(home: string, logger: Logger, env: NodeJS.ProcessEnv): string {
  requireJava();
  if (env.KAFKA_HOME) {
    const libs = path.join(env.KAFKA_HOME, 'libs');
    if (!existsSync(libs) || !readdirSync(libs).some((f) => f.startsWith('kafka_'))) {
      throw new ServiceError(
        `KAFKA_HOME=${env.KAFKA_HOME} has no libs/kafka_*.jar: point it at an unpacked Apache Kafka distribution.`,
      );
    }
    return libs;
  }
  const libs = path.resolve(home, `kafka-${pinnedKafkaVersion()}`, 'libs');
  if (existsSync(libs) && readdirSync(libs).some((f) => f.startsWith('kafka_2.13'))) return libs;
  if (!commandExists('mvn')) {
    throw new ServiceError(
      'Maven is required to fetch the Kafka jars once: install it (Debian: apt-get install -y maven), or set KAFKA_HOME to an unpacked Kafka distribution, or KAFKA_BROKERS to an existing cluster.',
    );
  }
  logger.info({ libs }, 'resolving Apache Kafka jars from Maven Central (once)');
  const staging = `${libs}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(path.dirname(libs), { recursive: true });
  const result = spawnSync(
    'mvn',
    [
      '-q',
      '-B',
      '-f',
      POM,
      'dependency:copy-dependencies',
      `-DoutputDirectory=${staging}`,
      '-DincludeScope=runtime',
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  if (result.status !== 0) {
    rmSync(staging, { recursive: true, force: true });
    throw new ServiceError(
      `mvn dependency:copy-dependencies failed (exit ${result.status}):\n${(result.stdout + result.stderr).slice(-2000)}`,
    );
  }
  // Atomic publish: concurrent `services up` never sees a half-filled folder.
  try {
    renameSync(staging, libs);
  } catch {
    rmSync(staging, { recursive: true, force: true });
  }
  return libs;
}
