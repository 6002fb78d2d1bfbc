import { Observable, type OperatorFunction } from 'rxjs';
import type { KeyValueStore } from './store.js';
import type { KeyedRecord } from './types.js';

/** `tumbling(60_000)`, `hopping(60_000, 10_000)`, `session(300_000)`; all in ms of event time. */
export type Windows =
  | { readonly kind: 'tumbling'; readonly size: number; readonly grace: number }
  | { readonly kind: 'hopping'; readonly size: number; readonly advance: number; readonly grace: number }
  | { readonly kind: 'session'; readonly gap: number; readonly grace: number };

export interface WindowOptions {
  /** How long after a window's end (session: end + gap) late records are still accepted. @default 0 */
  grace?: number;
}

export const tumbling = (size: number, options: WindowOptions = {}): Windows =>
  check({ kind: 'tumbling', size, grace: options.grace ?? 0 });
export const hopping = (size: number, advance: number, options: WindowOptions = {}): Windows =>
  check({ kind: 'hopping', size, advance, grace: options.grace ?? 0 });
export const session = (gap: number, options: WindowOptions = {}): Windows =>
  check({ kind: 'session', gap, grace: options.grace ?? 0 });

function check(w: Windows): Windows {
  const positive = w.kind === 'session' ? [w.gap] : w.kind === 'hopping' ? [w.size, w.advance] : [w.size];
  if (!positive.every((n) => Number.isInteger(n) && n > 0))
    throw new RangeError(`${w.kind}: sizes must be integers > 0`);
  if (!(Number.isInteger(w.grace) && w.grace >= 0))
    throw new RangeError(`${w.kind}: grace must be an integer >= 0`);
  if (w.kind === 'hopping' && w.advance > w.size) throw new RangeError('hopping: advance must be <= size');
  return w;
}

/** A window of one key: [start, end) for time windows, [start, end] (first and last record) for sessions. */
export interface Windowed<K> {
  readonly key: K;
  readonly start: number;
  readonly end: number;
}

export interface OpenWindow<A> {
  start: number;
  end: number;
  agg: A;
}

export interface WindowedAggregateOptions<K, V, A> {
  init: () => A;
  add: (key: K, value: V, agg: A) => A;
  /** Sessions only: combines two sessions a late record bridged. */
  merge?: (key: K, a: A, b: A) => A;
  /** Open windows per key; a logged store makes them survive a crash. */
  store: KeyValueStore<K, OpenWindow<A>[]>;
  /** Called with every record that arrived after all its windows closed (dropped). */
  onLate?: (record: KeyedRecord<K, V>) => void;
}

const closesAt = (w: Windows, win: { end: number }) =>
  w.kind === 'session' ? win.end + w.gap + w.grace : win.end + w.grace;

/** Start times of the time windows that contain `ts`. */
function windowStarts(w: Windows, ts: number): number[] {
  if (w.kind === 'tumbling') return [ts - (((ts % w.size) + w.size) % w.size)];
  if (w.kind !== 'hopping') return [];
  const starts: number[] = [];
  const last = ts - (((ts % w.advance) + w.advance) % w.advance);
  for (let s = last; s > ts - w.size; s -= w.advance) starts.unshift(s);
  return starts;
}

/**
 * Event-time windowed aggregation with emit-final semantics (Kafka Streams'
 * `suppress(untilWindowCloses)`): a window's result is emitted once, when stream time (the
 * highest event time seen) reaches its end + grace (sessions: last record + gap + grace). Records
 * whose every window has closed are late and dropped.
 */
export function windowedAggregate<K, V, A>(
  windows: Windows,
  options: WindowedAggregateOptions<K, V, A>,
): OperatorFunction<KeyedRecord<K, V>, KeyedRecord<Windowed<K>, A>> {
  const { init, add, store } = options;
  if (windows.kind === 'session' && !options.merge)
    throw new RangeError('session windows need a merge function');
  return (source) =>
    new Observable((subscriber) => {
      let streamTime = -Infinity;
      let nextClose = Infinity;
      for (const [, open] of store.all()) {
        for (const win of open) {
          streamTime = Math.max(streamTime, win.end);
          nextClose = Math.min(nextClose, closesAt(windows, win));
        }
      }

      const closeDue = (): void => {
        if (streamTime < nextClose) return;
        nextClose = Infinity;
        const due: KeyedRecord<Windowed<K>, A>[] = [];
        for (const [key, open] of [...store.all()]) {
          const keep = open.filter((win) => {
            const at = closesAt(windows, win);
            if (at <= streamTime) {
              due.push({ key: { key, start: win.start, end: win.end }, value: win.agg, ts: win.end });
              return false;
            }
            nextClose = Math.min(nextClose, at);
            return true;
          });
          if (keep.length === open.length) continue;
          if (keep.length === 0) store.delete(key);
          else store.put(key, keep);
        }
        due.sort((a, b) => a.key.end - b.key.end || a.key.start - b.key.start);
        for (const record of due) subscriber.next(record);
      };

      const addTimed = (record: KeyedRecord<K, V>, open: OpenWindow<A>[]): boolean => {
        let accepted = false;
        for (const start of windowStarts(windows, record.ts)) {
          const end = start + (windows.kind === 'session' ? 0 : windows.size);
          if (closesAt(windows, { end }) <= streamTime) continue;
          let win = open.find((o) => o.start === start);
          if (!win) {
            win = { start, end, agg: init() };
            open.push(win);
            nextClose = Math.min(nextClose, closesAt(windows, win));
          }
          win.agg = add(record.key, record.value, win.agg);
          accepted = true;
        }
        return accepted;
      };

      const addSession = (record: KeyedRecord<K, V>, open: OpenWindow<A>[]): boolean => {
        if (windows.kind !== 'session') return false;
        if (record.ts + windows.gap + windows.grace <= streamTime) return false;
        const touching = open.filter(
          (o) => record.ts > o.start - windows.gap && record.ts < o.end + windows.gap,
        );
        let win: OpenWindow<A> = {
          start: record.ts,
          end: record.ts,
          agg: add(record.key, record.value, init()),
        };
        for (const other of touching.sort((a, b) => a.start - b.start)) {
          const [first, second] = other.start <= win.start ? [other, win] : [win, other];
          win = {
            start: Math.min(first.start, second.start),
            end: Math.max(first.end, second.end),
            agg: options.merge!(record.key, first.agg, second.agg),
          };
          open.splice(open.indexOf(other), 1);
        }
        open.push(win);
        nextClose = Math.min(nextClose, closesAt(windows, win));
        return true;
      };

      return source.subscribe({
        next(record) {
          streamTime = Math.max(streamTime, record.ts);
          const open = [...(store.get(record.key) ?? [])].map((w) => ({ ...w }));
          const accepted = windows.kind === 'session' ? addSession(record, open) : addTimed(record, open);
          if (accepted) store.put(record.key, open);
          else options.onLate?.(record);
          closeDue();
        },
        error: (err) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
    });
}
