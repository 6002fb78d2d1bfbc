import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ServiceError } from '../src/errors.js';
import { exited, terminate } from './child-process.js';

/** Request/response over the IPC channel of a forked bench worker. */
interface Request {
  id: number;
  type: string;
  body: unknown;
}
interface Response {
  id: number;
  result?: unknown;
  error?: string;
}

export type WorkerName = 'produce-at-rate' | 'observe-visibility' | 'observe-kafka' | 'lookup-load';

/** A bench worker in its own process (own event loop, so its timing is not skewed by ours). */
export class WorkerHandle {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private constructor(readonly child: ChildProcess) {
    child.on('message', (message: Response) => {
      const waiter = this.pending.get(message.id);
      if (!waiter) return;
      this.pending.delete(message.id);
      if (message.error !== undefined) waiter.reject(new ServiceError(message.error));
      else waiter.resolve(message.result);
    });
    void exited(child).then((code) => {
      for (const waiter of this.pending.values())
        waiter.reject(new ServiceError(`worker exited (code ${code})`));
      this.pending.clear();
    });
  }

  static fork(name: WorkerName, env: NodeJS.ProcessEnv = process.env): WorkerHandle {
    const file = fileURLToPath(new URL(`./workers/${name}.ts`, import.meta.url));
    // Experiment knob: BENCH_WORKER_CPU_PROF=<dir> profiles every worker (node refuses --cpu-prof
    // in NODE_OPTIONS, so BENCH_NODE_OPTIONS cannot).
    const profile = process.env.BENCH_WORKER_CPU_PROF;
    const execArgv = ['--import', 'tsx', ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : [])];
    return new WorkerHandle(fork(file, [], { execArgv, env, stdio: 'inherit' }));
  }

  request<T>(type: string, body: unknown = {}): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      // A worker that died has no channel: sending would raise an unhandled 'error' on the child.
      if (!this.child.connected) return reject(new ServiceError(`worker gone before '${type}'`));
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ id, type, body } satisfies Request);
    });
  }

  async close(): Promise<void> {
    await this.request('close').catch(() => undefined);
    await terminate(this.child, 10_000);
  }
}

/** Worker side: answers requests with the named handlers; `close` ends the process. */
export function serveRequests(handlers: Record<string, (body: never) => Promise<unknown>>): void {
  process.on('message', (message: Request) => {
    const reply = (response: Omit<Response, 'id'>) => process.send?.({ id: message.id, ...response });
    const handler = handlers[message.type];
    if (!handler) {
      reply({ error: `unknown request ${message.type}` });
      return;
    }
    handler(message.body as never).then(
      (result) => {
        reply({ result: result ?? null });
        if (message.type === 'close') process.disconnect?.();
      },
      (err: unknown) => reply({ error: err instanceof Error ? err.message : String(err) }),
    );
  });
}
