import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) return sourceFiles(file);
    return /\.(ts|js)$/.test(name) ? [file] : [];
  });
}

describe('the environment is read only in src/config', () => {
  it('no file outside src/config mentions process.env', () => {
    const offenders = sourceFiles('src')
      .filter((file) => !file.startsWith(path.join('src', 'config') + path.sep))
      .flatMap((file) =>
        readFileSync(file, 'utf8')
          .split('\n')
          .map((line, i) => ({ file, line: i + 1, text: line.trim() }))
          .filter(({ text }) => /process\s*\.\s*env\b|process\s*\[\s*['"]env['"]\s*\]/.test(text)),
      )
      .map(({ file, line, text }) => `${file}:${line}: ${text}`);
    expect(offenders).toEqual([]);
  });
});
