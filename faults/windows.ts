/**
 * When each injected fault was active. Every scenario records its faults through its context
 * (`ctx.faults`), so the harness can tell a publish that failed because of the fault (expected,
 * counted, bounded) from one that failed while nothing was injected (a bug in the producer path).
 */
export interface FaultWindow {
  name: string;
  /** Epoch ms. */
  start: number;
  /** Epoch ms; undefined while the fault is still active. */
  end?: number;
}

export class FaultWindows {
  private readonly windows: FaultWindow[] = [];

  /**
   * @param bound Positions whose publish may fail inside the windows before the scenario fails.
   * @default 0
   */
  constructor(
    readonly bound = 0,
    private readonly now: () => number = Date.now,
  ) {}

  /** The fault starts now; call the returned function when it is over. */
  open(name: string): () => void {
    const window: FaultWindow = { name, start: this.now() };
    this.windows.push(window);
    return () => {
      window.end ??= this.now();
    };
  }

  /** Records `fn` as the fault `name` (start before, end after it settles). */
  async during<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const close = this.open(name);
    try {
      return await fn();
    } finally {
      close();
    }
  }

  /** Closes every window still open (the scenario ended while a fault was active). */
  closeAll(): void {
    for (const w of this.windows) w.end ??= this.now();
  }

  list(): readonly FaultWindow[] {
    return this.windows;
  }
}

/** A publish call that rejected: which positions, and when it was made and failed. */
export interface PublishFailure {
  from: number;
  to: number;
  sentAt: number;
  failedAt: number;
  error: string;
}

export interface PublishVerdict {
  /** Positions whose publish failed while a fault was active. */
  insideFailed: number;
  /** Positions whose publish failed while no fault was active. */
  outsideFailed: number;
  bound: number;
  ok: boolean;
  detail: string;
}

const overlaps = (f: PublishFailure, w: FaultWindow) =>
  f.sentAt <= (w.end ?? Infinity) && f.failedAt >= w.start;

/**
 * Acknowledged = produced outside the fault windows: a publish call that failed without
 * overlapping any window fails the scenario; failures inside are allowed up to `bound` positions.
 * A call overlaps a window when it was in flight at any moment the fault was active.
 */
export function checkPublishFailures(
  failures: readonly PublishFailure[],
  windows: readonly FaultWindow[],
  bound: number,
): PublishVerdict {
  let insideFailed = 0;
  let outsideFailed = 0;
  const outside: string[] = [];
  for (const f of failures) {
    const n = f.to - f.from;
    if (windows.some((w) => overlaps(f, w))) insideFailed += n;
    else {
      outsideFailed += n;
      if (outside.length < 3)
        outside.push(
          `seq ${f.from}..${f.to - 1} sent ${new Date(f.sentAt).toISOString()} failed ${new Date(f.failedAt).toISOString()}: ${f.error}`,
        );
    }
  }
  const ok = outsideFailed === 0 && insideFailed <= bound;
  const calls = `${failures.length} failed publish call(s)`;
  return {
    insideFailed,
    outsideFailed,
    bound,
    ok,
    detail:
      `${calls}: ${insideFailed} positions inside fault windows (bound ${bound}), ${outsideFailed} outside` +
      (outside.length ? `; outside: ${outside.join('; ')}` : ''),
  };
}

/** Windows for the report: `name 12.3 s (from 18:01:02.345)`. */
export function describeWindows(windows: readonly FaultWindow[]): string {
  if (windows.length === 0) return 'no fault window recorded';
  return windows
    .map(
      (w) =>
        `${w.name} ${w.end === undefined ? 'still open' : `${((w.end - w.start) / 1000).toFixed(1)} s`} from ${new Date(w.start).toISOString().slice(11, 23)}`,
    )
    .join('; ');
}
