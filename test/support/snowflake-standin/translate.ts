/**
 * The small Snowflake → DuckDB translation layer of the stand-in. It covers the dialect the
 * Snowflake sink and the shared warehouse SQL emit (and a little more), not Snowflake at large:
 * types (VARIANT, TIMESTAMP_TZ, NUMBER, FLOAT), a few functions (renamed to `sf_*` macros defined
 * in {@link MACROS}), `?` / `:n` placeholders, informational primary keys (dropped: Snowflake does
 * not enforce them, so the sink's MERGE must be what keeps rows unique), and session functions.
 */

/** DuckDB macros standing in for Snowflake functions (installed once per stand-in database). */
export const MACROS = [
  `CREATE OR REPLACE MACRO sf_parse_json(x) AS CAST(x AS JSON)`,
  `CREATE OR REPLACE MACRO sf_to_json(x) AS CAST(CAST(x AS JSON) AS VARCHAR)`,
  // TO_TIMESTAMP_TZ(<number>, <scale>): epoch in units of 10^-scale seconds.
  `CREATE OR REPLACE MACRO sf_to_timestamp_tz(v, s) AS make_timestamptz(CAST(CAST(v AS DOUBLE) * pow(10, 6 - s) AS BIGINT))`,
  // CONVERT_TIMEZONE(tz, <timestamp_tz>) keeps the instant; DuckDB's TIMESTAMPTZ has no per-value
  // offset (results carry the session TIMEZONE's offset instead, see result-format.ts).
  `CREATE OR REPLACE MACRO sf_convert_timezone(tz, x) AS x`,
];

const FUNCTIONS: Record<string, string> = {
  CONVERT_TIMEZONE: 'sf_convert_timezone',
  PARSE_JSON: 'sf_parse_json',
  TO_JSON: 'sf_to_json',
  TO_TIMESTAMP_TZ: 'sf_to_timestamp_tz',
};

export interface SessionNames {
  database: string | null;
  schema: string | null;
  warehouse: string | null;
  role: string | null;
}

/** Splits SQL into code and quoted parts so rewrites never touch string literals or quoted names. */
function mapCode(sql: string, rewrite: (code: string) => string): string {
  const parts = sql.split(/('(?:[^']|'')*'|"(?:[^"]|"")*")/);
  return parts.map((part, i) => (i % 2 === 1 ? part : rewrite(part))).join('');
}

const literal = (v: string | null) => (v === null ? 'NULL' : `'${v.replace(/'/g, "''")}'`);

/** Translates one Snowflake statement. Placeholders become `$1..$n` in order of appearance. */
export function translate(sql: string, session: SessionNames): string {
  let next = 0;
  return mapCode(sql.trim().replace(/;\s*$/, ''), (code) =>
    code
      .replace(/\?/g, () => `$${++next}`)
      .replace(/:(\d+)\b/g, (_m, n: string) => `$${n}`)
      .replace(/\bDATE_PART\(\s*EPOCH_MILLISECOND\s*,/gi, 'epoch_ms(')
      .replace(/\bCURRENT_(DATABASE|SCHEMA|WAREHOUSE|ROLE)\(\s*\)/gi, (_m, what: string) =>
        literal(session[what.toLowerCase() as keyof SessionNames]),
      )
      .replace(/\bCURRENT_TIMESTAMP\(\s*\)/gi, 'current_timestamp')
      // TABLE(FLATTEN(INPUT => <json array>)) f: one row per element, its `value` a JSON element.
      .replace(
        /\bTABLE\s*\(\s*FLATTEN\s*\(\s*INPUT\s*=>\s*PARSE_JSON\s*\((\$\d+|:\d+|\?)\)\s*\)\s*\)/gi,
        (_m, p: string) => `(SELECT unnest(CAST(CAST(${p} AS JSON) AS JSON[])) AS value)`,
      )
      // <alias>.value[i]: the i-th element as text (NULL for JSON null), cast by what follows.
      .replace(/\b(\w+)\.value\[(\d+)\]/g, (_m, alias: string, i: string) => `(${alias}.value->>${i})`)
      .replace(
        /\b(CONVERT_TIMEZONE|PARSE_JSON|TO_JSON|TO_TIMESTAMP_TZ)\s*\(/gi,
        (_m, fn: string) => `${FUNCTIONS[fn.toUpperCase()]}(`,
      )
      .replace(/\bVARIANT\b/gi, 'JSON')
      .replace(/\bTIMESTAMP_TZ(\s*\(\s*\d\s*\))?/gi, 'TIMESTAMPTZ')
      .replace(/\bNUMBER\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)/gi, (_m, p: string, s: string) =>
        Number(p) <= 18 && s === '0' ? 'BIGINT' : `DECIMAL(${p},${s})`,
      )
      .replace(/\bFLOAT\b/gi, 'DOUBLE')
      .replace(/,\s*(CONSTRAINT\s+\w+\s+)?(PRIMARY\s+KEY|UNIQUE)\s*\([^)]*\)/gi, ''),
  );
}

/** `INSERT ... VALUES ($1, f($2))` with array binds → `INSERT ... SELECT unnest($1), f(unnest($2))`. */
export function arrayInsert(duckSql: string): string | undefined {
  const m = /^(INSERT\s+INTO\s+[\s\S]*?)\bVALUES\s*\(([\s\S]*)\)$/i.exec(duckSql);
  if (!m) return undefined;
  return `${m[1]} SELECT ${m[2]!.replace(/\$(\d+)/g, 'unnest($$$1)')}`;
}

/** The statement's first keyword, upper case (SELECT, INSERT, MERGE, CREATE, BEGIN...). */
export function statementKind(sql: string): string {
  if (/^\s*ALTER\s+SESSION\b/i.test(sql)) return 'ALTER SESSION';
  const first = /^\s*([A-Za-z]+)/.exec(sql)?.[1]?.toUpperCase() ?? '';
  return first === 'WITH' ? 'SELECT' : first;
}
