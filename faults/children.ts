import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const FLEET_BIN = fileURLToPath(new URL('../bin/fleet.js', import.meta.url));

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * A `fleet <command>` (or any node script) run as a child process, so it can be SIGKILLed at any
 * moment like a crashed container. Its output goes to a log file of the run.
 */
export class FleetChild {
  readonly exited: Promise<ChildExit>;
  private exit: ChildExit | undefined;

  private constructor(
    private readonly child: ChildProcess,
    readonly name: string,
    readonly logFile: string,
  ) {
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        live.delete(this);
        resolve(this.exit);
      });
    });
    live.add(this);
  }

  /** `fleet <args>` with `env` on top of ours; `script` runs a node entry of the suite instead. */
  static start(options: {
    name: string;
    args: readonly string[];
    env: Record<string, string>;
    logFile: string;
    script?: string;
    /** Network namespace to run in (`ip netns exec`, which execs: the pid stays the node's). */
    netns?: string;
  }): FleetChild {
    mkdirSync(path.dirname(options.logFile), { recursive: true });
    const fd = openSync(options.logFile, 'a');
    try {
      const entry = options.script ? ['--import', 'tsx', options.script] : [FLEET_BIN];
      const argv = [process.execPath, ...entry, ...options.args];
      if (options.netns) argv.unshift('ip', 'netns', 'exec', options.netns);
      const child = spawn(argv[0]!, argv.slice(1), {
        env: { ...process.env, ...options.env },
        stdio: ['ignore', fd, fd],
      });
      return new FleetChild(child, options.name, options.logFile);
    } finally {
      closeSync(fd);
    }
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get alive(): boolean {
    return this.exit === undefined;
  }

  get exitInfo(): ChildExit | undefined {
    return this.exit;
  }

  /** kill -9: no drain, no flush, no commit. */
  kill(): Promise<ChildExit> {
    if (this.alive) this.child.kill('SIGKILL');
    return this.exited;
  }

  /** SIGTERM (graceful drain), then SIGKILL after `graceMs`; graceful = exited by itself with 0. */
  async stop(graceMs = 60_000): Promise<{ graceful: boolean; exit: ChildExit }> {
    if (!this.alive) return { graceful: this.exit?.code === 0, exit: this.exit! };
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return { graceful: exit.signal === null && exit.code === 0, exit };
  }

  /** Resident memory now (Linux /proc), in bytes; undefined once exited. */
  rssBytes(): number | undefined {
    if (!this.alive) return undefined;
    try {
      const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
      const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
      return match ? Number(match[1]) * 1024 : undefined;
    } catch {
      return undefined;
    }
  }

  /** The last lines of the child's log, for failure reports. */
  tail(lines = 20): string {
    try {
      return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }
}

const live = new Set<FleetChild>();

/** Kills every child still running (runner exit, Ctrl-C): none outlives the suite. */
export function killAllChildren(): void {
  for (const child of live) child.kill().catch(() => undefined);
}
