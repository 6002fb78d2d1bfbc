import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { RawConfig } from '../src/config/index.js';
import { PROCESSOR_HEAP_FLAG } from '../src/config/runtime.js';
import { ServiceError } from '../src/errors.js';
import { exited, terminate } from './child-process.js';
import { childEnv, type BenchServices } from './services.js';

/** A `fleet <command>` running as our child: its own pid, so RSS and CPU are its own. */
export interface FleetChild {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly logFile: string;
  /** Rejects if the child exits before `stop()` was called. */
  readonly crashed: Promise<never>;
  /** Graceful stop (SIGTERM: drain, flush, commit); resolves with the exit code. */
  stop(): Promise<number | null>;
}

export interface SpawnFleetOptions {
  /** Config variables of the child (on top of the bench's addresses). */
  env?: RawConfig;
  /** Log file name under the work dir. */
  name: string;
  /** Write V8 CPU profiles (one per thread) into this dir when the child exits (`node --cpu-prof`). */
  cpuProfDir?: string;
}

export function spawnFleet(services: BenchServices, args: string[], options: SpawnFleetOptions): FleetChild {
  const logFile = path.join(services.workDir, `${options.name}.log`);
  const fd = openSync(logFile, 'a');
  const nodeArgs = options.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`] : [];
  // The processor runs with the deployed heap cap (the Dockerfile's NODE_OPTIONS), unless the
  // experiment knob BENCH_NODE_OPTIONS sets V8 flags itself.
  // (`fleet replay` runs the same topology in the same image.)
  const processor = args[0] === 'process' || args[0] === 'replay';
  if (processor && !process.env.BENCH_NODE_OPTIONS) nodeArgs.push(PROCESSOR_HEAP_FLAG);
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, [...nodeArgs, services.runtime.entry, ...args], {
      env: childEnv(services, options.env),
      stdio: ['ignore', fd, fd],
    });
  } finally {
    closeSync(fd);
  }
  if (child.pid === undefined) throw new ServiceError(`could not start fleet ${args.join(' ')}`);
  return supervise(child, `fleet ${args.join(' ')}`, logFile);
}

/**
 * A started child as a {@link FleetChild}: `crashed` rejects when it exits before `stop()` was
 * called; `stop()` terminates it (SIGTERM, then SIGKILL after `graceMs`).
 */
export function supervise(child: ChildProcess, label: string, logFile: string, graceMs?: number): FleetChild {
  let stopping = false;
  const crashed = exited(child).then((code) => {
    if (!stopping) throw new ServiceError(`${label} exited early (code ${code}); see ${logFile}`);
    return new Promise<never>(() => undefined);
  });
  crashed.catch(() => undefined);
  return {
    child,
    pid: child.pid!,
    logFile,
    crashed,
    stop: () => {
      stopping = true;
      return terminate(child, graceMs);
    },
  };
}

/** Polls `check` until true; fails fast when the child crashes meanwhile. */
export async function waitWhileRunning(
  fleet: FleetChild,
  check: () => Promise<boolean>,
  what: string,
  timeoutMs: number,
  intervalMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let crashed = false;
  const poll = async () => {
    // Stops with the child too: a dead child must not leave this loop running (and the bench alive).
    while (!crashed) {
      if (await check().catch(() => false)) return;
      if (Date.now() > deadline)
        throw new ServiceError(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  };
  await Promise.race([
    poll(),
    fleet.crashed.catch((err: unknown) => {
      crashed = true;
      throw err;
    }),
  ]);
}

/**
 * The main thread's profile of a child: `CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile`, thread
 * 0 (tsx's module loader runs in another thread and writes its own).
 */
export function mainThreadProfile(dir: string, pid: number): string | undefined {
  const name = readdirSync(dir).find((f) =>
    new RegExp(`^CPU\\.\\d+\\.\\d+\\.${pid}\\.0\\.\\d+\\.cpuprofile$`).test(f),
  );
  return name === undefined ? undefined : path.join(dir, name);
}
