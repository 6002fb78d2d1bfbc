import { variables, type VariableSpec } from './variables.js';

/** The command that regenerates docs/configuration.md (an npm script). */
export const CONFIGURATION_DOC_COMMAND = 'npm run docs:config';

/** Escapes what would break a markdown table cell. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/**
 * A markdown table with its columns padded the way Prettier pads them, so the generated file
 * passes `prettier --check` as it is. Widths count code points; every cell here is
 * single-width text.
 */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) =>
    Math.max(3, ...[h, ...rows.map((r) => r[i] ?? '')].map((c) => [...c].length)),
  );
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => c + ' '.repeat((widths[i] ?? 0) - [...c].length)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** The table of every variable: name, default, meaning. */
export function variablesTable(list: readonly VariableSpec[] = variables): string {
  return markdownTable(
    ['Variable', 'Default', 'Meaning'],
    list.map((v) => [
      `\`${v.name}\``,
      v.default !== undefined && v.default !== '' ? `\`${v.default}\`` : '—',
      cell(v.doc),
    ]),
  );
}

/** The whole of docs/configuration.md. */
export function configurationDoc(list: readonly VariableSpec[] = variables): string {
  return `# Configuration

<!-- Generated from src/config/variables.ts by \`${CONFIGURATION_DOC_COMMAND}\`; do not edit by hand. -->

Every environment variable fleet-tracker reads, with its default and meaning. Each command reads
them at start (\`fleet config\` prints the result, secrets masked) and fails with a message naming
the variable when a value is wrong. To add one, add it to \`src/config/variables.ts\` and run
\`${CONFIGURATION_DOC_COMMAND}\`.

The pages of each part name the variables that matter there and explain the trade-offs:
[producers](producers.md), [processor](processor.md), [state](state.md), [warehouse](warehouse.md),
[Snowflake](snowflake.md), [API](api.md), [operations](operations.md).

${variablesTable(list)}
`;
}
