import { Redis } from 'ioredis';

/** Per-command call counts and server-side time (INFO commandstats). */
export type CommandStats = Record<string, { calls: number; usec: number }>;

export async function commandStats(url: string): Promise<CommandStats> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const text = await redis.info('commandstats');
    const stats: CommandStats = {};
    for (const match of text.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
      stats[match[1]!] = { calls: Number(match[2]), usec: Number(match[3]) };
    }
    return stats;
  } finally {
    redis.disconnect();
  }
}

/** Server-side seconds spent per command between two snapshots, largest first (top 5). */
export function commandSecondsBetween(before: CommandStats, after: CommandStats): Record<string, number> {
  return Object.fromEntries(
    Object.entries(after)
      .map(([name, a]) => [name, (a.usec - (before[name]?.usec ?? 0)) / 1e6] as const)
      .filter(([, s]) => s > 0.001)
      .sort((x, y) => y[1] - x[1])
      .slice(0, 5)
      .map(([name, s]) => [name, Math.round(s * 100) / 100]),
  );
}
