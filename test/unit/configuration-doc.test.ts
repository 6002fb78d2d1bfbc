import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  CONFIGURATION_DOC_COMMAND,
  configurationDoc,
  markdownTable,
} from '../../src/config/configuration-doc.js';
import { variables, type VariableSpec } from '../../src/config/variables.js';

describe('docs/configuration.md', () => {
  it('is generated from the current variables table', () => {
    const onDisk = readFileSync('docs/configuration.md', 'utf8');
    if (onDisk !== configurationDoc()) {
      expect.fail(
        `docs/configuration.md is out of date with src/config/variables.ts: run \`${CONFIGURATION_DOC_COMMAND}\` and commit the result`,
      );
    }
  });

  it('lists every variable once, with its default', () => {
    const doc = configurationDoc();
    for (const v of variables as readonly VariableSpec[]) {
      const rows = doc.split('\n').filter((line) => line.startsWith(`| \`${v.name}\` `));
      expect(rows, v.name).toHaveLength(1);
      if (v.default) expect(rows[0], v.name).toContain(`\`${v.default}\``);
    }
  });
});

describe('markdownTable', () => {
  it('pads every column to its widest cell, dashes at least three wide, pipes escaped by the caller', () => {
    expect(
      markdownTable(
        ['a', 'Meaning'],
        [
          ['`X_Y`', 'long — text'],
          ['b', 'c'],
        ],
      ),
    ).toBe(
      [
        '| a     | Meaning     |',
        '| ----- | ----------- |',
        '| `X_Y` | long — text |',
        '| b     | c           |',
      ].join('\n'),
    );
  });
});
