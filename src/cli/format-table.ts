/** A column of a printed table: header, how to read a row, and alignment. */
export interface Column<T> {
  header: string;
  value: (row: T) => string | number | null | undefined;
  /** @default 'left'; numbers default to right */
  align?: 'left' | 'right';
}

/** Formats rows as an aligned plain-text table (two spaces between columns, '-' for missing). */
export function formatTable<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = rows.map((row) =>
    columns.map((c) => {
      const v = c.value(row);
      return v === null || v === undefined || v === '' ? '-' : String(v);
    }),
  );
  const right = columns.map(
    (c) =>
      c.align === 'right' ||
      (c.align === undefined && rows.length > 0 && typeof c.value(rows[0]!) === 'number'),
  );
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => (right[i] ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join('\n');
}
