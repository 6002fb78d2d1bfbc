import { describe, expect, it } from 'vitest';
import { FleetError } from '../../src/errors.js';
import { backoffDelay, retry } from '../../src/retry.js';

const instant = async () => undefined;

describe('retry', () => {
  it('retries only retriable errors by default', async () => {
    let calls = 0;
    const fatal = new FleetError('bad request');
    await expect(
      retry(
        async () => {
          calls++;
          throw fatal;
        },
        { sleep: instant },
      ),
    ).rejects.toBe(fatal);
    expect(calls).toBe(1);
    let n = 0;
    const value = await retry(
      async () => {
        if (++n < 3) throw new FleetError('busy', { retriable: true });
        return 'ok';
      },
      { sleep: instant },
    );
    expect([value, n]).toEqual(['ok', 3]);
  });

  it('waits the injected backoff between attempts and gives up after `retries`', async () => {
    const waits: number[] = [];
    let calls = 0;
    await expect(
      retry(
        async () => {
          calls++;
          throw new FleetError('down', { retriable: true });
        },
        { retries: 3, initialMs: 10, factor: 2, jitter: false, sleep: async (ms) => void waits.push(ms) },
      ),
    ).rejects.toThrow('down');
    expect(calls).toBe(4);
    expect(waits).toEqual([10, 20, 40]);
  });

  it('retries forever until the signal aborts, then throws its reason', async () => {
    const abort = new AbortController();
    const reason = new Error('shutdown deadline');
    let calls = 0;
    const failing = retry(
      async () => {
        if (++calls === 50) abort.abort(reason);
        throw new FleetError('down', { retriable: true });
      },
      { retries: Infinity, signal: abort.signal, sleep: instant },
    );
    await expect(failing).rejects.toBeDefined();
    expect(calls).toBe(50);
  });

  it('asks shouldRetry with the next delay, so a deadline can refuse a late retry', async () => {
    const asked: { attempt: number; delayMs: number }[] = [];
    const err = new Error('x');
    await expect(
      retry(
        async () => {
          throw err;
        },
        {
          retries: Infinity,
          initialMs: 100,
          jitter: false,
          sleep: instant,
          shouldRetry: async (_e, next) => {
            asked.push(next);
            return next.delayMs < 400;
          },
        },
      ),
    ).rejects.toBe(err);
    expect(asked).toEqual([
      { attempt: 1, delayMs: 100 },
      { attempt: 2, delayMs: 200 },
      { attempt: 3, delayMs: 400 },
    ]);
  });

  it('backoff grows by factor up to maxMs, jittered within [delay/2, delay]', () => {
    expect(backoffDelay(10, { initialMs: 100, maxMs: 1000, jitter: false })).toBe(1000);
    expect(backoffDelay(1, { initialMs: 100 }, () => 0)).toBe(100);
    expect(backoffDelay(1, { initialMs: 100 }, () => 1)).toBe(200);
  });
});
