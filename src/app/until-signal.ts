/** What `untilSignal` listens on; `process` outside tests. */
export interface SignalSource {
  on(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  off(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
}

export interface UntilSignalOptions {
  /** @default process */
  source?: SignalSource;
  /** Called on the second signal: shutting down is taking too long for the user. @default exit 130 */
  onSecondSignal?: (signal: NodeJS.Signals) => void;
}

/**
 * Resolves with the first of `signals` to arrive: the command then shuts down in order. A second
 * signal while it does forces the exit (exit code 130) instead of waiting for the drain.
 */
export function untilSignal(
  signals: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'],
  options: UntilSignalOptions = {},
): Promise<NodeJS.Signals> {
  const source = options.source ?? process;
  const onSecond =
    options.onSecondSignal ??
    ((signal: NodeJS.Signals) => {
      process.stderr.write(`fleet: second ${signal}: exiting without finishing the shutdown\n`);
      process.exit(130);
    });
  return new Promise((resolve) => {
    const onFirst = (signal: NodeJS.Signals) => {
      for (const s of signals) {
        source.off(s, onFirst);
        source.on(s, onSecond);
      }
      resolve(signal);
    };
    for (const s of signals) source.on(s, onFirst);
  });
}
