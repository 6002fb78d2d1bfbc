import { readFile } from 'node:fs/promises';

/** Where a V8 CPU profile (`node --cpu-prof`) spent its time. */
export interface ProfileSummary {
  file: string;
  totalMs: number;
  /** Total minus idle: time the main thread was running something. */
  busyMs: number;
  /** Time per area of the pipeline (leaf-most matching frame wins), ms and share of the total. */
  areas: { area: string; ms: number; pct: number }[];
  /** Functions with the most self time. */
  topFunctions: { fn: string; ms: number; pct: number }[];
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Areas of the pipeline, recognised by the file a frame belongs to (first match wins). */
const AREAS: [area: string, test: (url: string, fn: string) => boolean][] = [
  ['decode (JSON.parse)', (u) => /\/(src|dist)\/domain\/codec\./.test(u)],
  ['validation (zod)', (u) => u.includes('/node_modules/zod/') || /\/(src|dist)\/domain\/position\./.test(u)],
  [
    'redis (ioredis, Lua call)',
    (u) => u.includes('/node_modules/ioredis/') || /\/(src|dist)\/state\//.test(u),
  ],
  [
    'warehouse (DuckDB append)',
    (u) => u.includes('/node_modules/@duckdb/') || /\/(src|dist)\/sinks\/(duckdb|warehouse|create-)/.test(u),
  ],
  ['kafkajs commits', (u, fn) => u.includes('/node_modules/kafkajs/') && /commit/i.test(fn)],
  ['kafkajs (fetch, decode)', (u) => u.includes('/node_modules/kafkajs/')],
  [
    'topology (rxjs, batching)',
    (u) => u.includes('/node_modules/rxjs/') || /\/(src|dist)\/topology\//.test(u),
  ],
  ['source / commit tracking', (u) => /\/(src|dist)\/sources\//.test(u)],
  ['logging / metrics', (u) => u.includes('/node_modules/pino') || u.includes('/node_modules/prom-client/')],
  [
    'startup (module loading, tsx)',
    (u) => /^node:internal\/(modules|bootstrap)/.test(u) || u.includes('/node_modules/tsx/'),
  ],
];

const SPECIAL = new Map([
  ['(garbage collector)', 'GC'],
  ['(idle)', 'idle (waiting on I/O)'],
  ['(program)', 'native / unattributed'],
]);

/**
 * The area a frame itself belongs to, if any. Frames without one (node internals such as sockets
 * or zlib, natives like JSON.parse, our own glue) inherit the area of their nearest caller that
 * has one: time in a socket write called by ioredis is Redis time.
 */
function ownArea(node: ProfileNode): string | undefined {
  const { url, functionName } = node.callFrame;
  const special = SPECIAL.get(functionName);
  if (special) return special;
  if (!url) return undefined;
  return AREAS.find(([, test]) => test(url, functionName))?.[0];
}

const ms = (us: number) => Math.round(us / 100) / 10;

export async function summarizeProfile(file: string, top = 15): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const areaOf = new Map<number, string>();
  const resolveArea = (id: number): string => {
    const cached = areaOf.get(id);
    if (cached) return cached;
    const node = byId.get(id);
    const up = parent.get(id);
    const area = (node && ownArea(node)) ?? (up === undefined ? 'other (timers, glue)' : resolveArea(up));
    areaOf.set(id, area);
    return area;
  };
  const selfUs = new Map<number, number>();
  let totalUs = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    totalUs += dt;
    selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
  });
  const areaUs = new Map<string, number>();
  const fnUs = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const area = resolveArea(id);
    areaUs.set(area, (areaUs.get(area) ?? 0) + us);
    const node = byId.get(id);
    if (!node || SPECIAL.has(node.callFrame.functionName)) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url
      ? `${url.replace(/^.*\/(node_modules|src|dist)\//, '$1/')}:${lineNumber + 1}`
      : 'native';
    const key = `${functionName || '(anonymous)'} ${where}`;
    fnUs.set(key, (fnUs.get(key) ?? 0) + us);
  }
  const busyUs = totalUs - (areaUs.get(SPECIAL.get('(idle)')!) ?? 0);
  const pct = (us: number) => Math.round((us / Math.max(1, totalUs)) * 1000) / 10;
  return {
    file,
    totalMs: ms(totalUs),
    busyMs: ms(busyUs),
    areas: [...areaUs].sort((a, b) => b[1] - a[1]).map(([area, us]) => ({ area, ms: ms(us), pct: pct(us) })),
    topFunctions: [...fnUs]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([fn, us]) => ({ fn, ms: ms(us), pct: pct(us) })),
  };
}
