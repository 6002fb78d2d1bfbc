import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/** The layer table of docs/architecture.md: folder → row (1 = top). `src` (files) is the bottom row. */
function layers(): Map<string, number> {
  const doc = readFileSync('docs/architecture.md', 'utf8');
  const table = doc.slice(doc.indexOf('<!-- layers:start -->'), doc.indexOf('<!-- layers:end -->'));
  const rows = new Map<string, number>();
  for (const line of table.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    const row = Number(cells[1]);
    if (!Number.isInteger(row)) continue;
    for (const m of cells[2]!.matchAll(/`src(?:\/([a-z-]+))?`/g)) rows.set(m[1] ?? '.', row);
  }
  return rows;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sourceFiles(path.join(dir, e.name))
      : e.name.endsWith('.ts')
        ? [path.join(dir, e.name)]
        : [],
  );
}

/** `src/x/...` → `x`; a file directly in `src` → `.`. */
const folderOf = (file: string): string => {
  const parts = path.relative('src', file).split(path.sep);
  return parts.length > 1 ? parts[0]! : '.';
};

describe('architecture', () => {
  const rows = layers();

  it('maps every folder of src to a layer', () => {
    const folders = new Set(sourceFiles('src').map(folderOf));
    expect([...folders].filter((f) => !rows.has(f))).toEqual([]);
    expect(rows.size).toBeGreaterThan(10);
  });

  it('imports only run downward', () => {
    const upward: string[] = [];
    for (const file of sourceFiles('src')) {
      const from = folderOf(file);
      for (const m of readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
        const to = folderOf(path.join(path.dirname(file), m[1]!));
        if (to === from) continue;
        if (rows.get(to)! <= rows.get(from)!) upward.push(`${file} imports ${m[1]} (${from} → ${to})`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('the rule catches an upward import', () => {
    // The same check on a planted line: sources (row 8) importing topology (row 7) is refused.
    expect(rows.get('topology')!).toBeLessThan(rows.get('sources')!);
    expect(rows.get('stream')!).toBeGreaterThan(rows.get('sources')!);
  });
});
