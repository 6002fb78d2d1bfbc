import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/** The README is the door, not the manual (issue 18). */
const README_MAX_LINES = 250;

/**
 * Docs another branch is writing, linked before they land. The test fails once such a file
 * exists, so the entry cannot outlive its reason: remove it then.
 */
const PENDING = new Set<string>();

const DOCS = ['README.md', 'faults/README.md', 'bench/README.md', ...markdownIn('docs')];

function markdownIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.md'))
    .map((f) => path.join(dir, f));
}

/** The text outside fenced code blocks and inline code spans. */
function prose(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchors(file: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of readFileSync(file, 'utf8')
    .replace(/^```[\s\S]*?^```/gm, '')
    .matchAll(/^#{1,6}\s+(.+)$/gm)) {
    const slug = m[1]!
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return out;
}

/** Relative link targets of a markdown file: `[text](target)`, images included. */
function relativeLinks(file: string): string[] {
  return [...prose(readFileSync(file, 'utf8')).matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)]
    .map((m) => m[1]!)
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

describe('README and docs', () => {
  it(`README.md has at most ${README_MAX_LINES} lines`, () => {
    const lines = readFileSync('README.md', 'utf8').trimEnd().split('\n').length;
    expect(lines).toBeLessThanOrEqual(README_MAX_LINES);
  });

  it('every relative link points to an existing file, and every anchor to a heading', () => {
    const broken: string[] = [];
    for (const file of DOCS) {
      for (const link of relativeLinks(file)) {
        const [target = '', anchor] = link.split('#');
        const resolved = target === '' ? file : path.normalize(path.join(path.dirname(file), target));
        if (PENDING.has(resolved) && !anchor) continue;
        if (!existsSync(resolved)) {
          broken.push(`${file}: ${link} (no such file)`);
          continue;
        }
        if (anchor && resolved.endsWith('.md') && !anchors(resolved).has(anchor)) {
          broken.push(`${file}: ${link} (no heading #${anchor} in ${resolved})`);
        }
      }
    }
    expect(broken).toEqual([]);
  });

  it('the pending docs have not landed yet (remove them from PENDING once they do)', () => {
    expect([...PENDING].filter((file) => existsSync(file))).toEqual([]);
  });

  it('the README links every page of docs/', () => {
    const linked = new Set(relativeLinks('README.md').map((l) => path.normalize(l.split('#')[0]!)));
    const unlinked = markdownIn('docs').filter((f) => !linked.has(f) && statSync(f).isFile());
    expect(unlinked).toEqual([]);
  });
});
