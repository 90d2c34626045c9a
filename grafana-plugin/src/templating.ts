// Template variable interpolation for RLQuery options. Grafana's TemplateSrv
// does the lookup; these helpers decide how multi-value variables are spread:
// list options get one entry per value, SQL gets quoted literals.
import type { ScopedVars } from '@grafana/data';
import type { TemplateSrv } from '@grafana/runtime';

// LIST_SEPARATOR joins the values of a multi-value variable inside one
// replaced string; a control character, so no serial can contain it.
const LIST_SEPARATOR = '\u001f';

// BACKEND_MACROS are expanded by the backend, in dashboards and in alert rules
// alike, so the frontend must pass them through untouched.
const BACKEND_MACROS =
  /\$__(?:timeFilter|timeGroupAlias|timeGroup|interval_ms|interval)\b|\$\{__interval(?:_ms)?\}/g;
/\$__(?:timeFilter|timeGroup|interval_ms|interval)\b|\$\{__interval(?:_ms)?\}/g;

/** VariableInfo is the part of a template variable that formatting looks at. */
interface VariableInfo {
  multi?: boolean;
  includeAll?: boolean;
}

/**
 * interpolateList replaces variables in each entry of values and spreads
 * multi-value variables into one entry per value. Empty entries and
 * duplicates are dropped; order is kept. undefined stays undefined.
 */
export function interpolateList<T extends string>(
  templateSrv: TemplateSrv,
  values: T[] | undefined,
  scopedVars: ScopedVars
): T[] | undefined {
  if (!values) {
    return values;
  }

  const out: string[] = [];
  for (const value of values) {
    const replaced = templateSrv.replace(String(value), scopedVars, joinValues);
    for (const item of replaced.split(LIST_SEPARATOR)) {
      const trimmed = item.trim();
      if (trimmed !== '' && !out.includes(trimmed)) {
        out.push(trimmed);
      }
    }
  }
  return out as T[];
}

/** interpolateString replaces variables in value; undefined stays undefined. */
export function interpolateString<T extends string>(
  templateSrv: TemplateSrv,
  value: T | undefined,
  scopedVars: ScopedVars
): T | undefined {
  if (value === undefined) {
    return value;
  }
  return templateSrv.replace(value, scopedVars) as T;
}

/**
 * interpolateNumber returns a number option as a number: numbers pass as they
 * are, strings are interpolated and parsed. A string that is not a number
 * after interpolation gives undefined, so the backend uses its default.
 */
export function interpolateNumber(
  templateSrv: TemplateSrv,
  value: number | string | undefined,
  scopedVars: ScopedVars
): number | undefined {
  if (typeof value !== 'string') {
    return value;
  }

  const parsed = Number(templateSrv.replace(value, scopedVars).trim());
  return value.trim() !== '' && Number.isFinite(parsed) ? parsed : undefined;
}

/**
 * interpolateSql replaces variables in a SQL statement. Multi-value and
 * include-all variables become comma-separated quoted literals, for use in
 * `IN (...)`; single values are inserted as they are, as Grafana's own SQL
 * datasources do. Backend macros are left for the backend.
 */
export function interpolateSql(
  templateSrv: TemplateSrv,
  sql: string | undefined,
  scopedVars: ScopedVars
): string | undefined {
  if (sql === undefined) {
    return sql;
  }

  const macros: string[] = [];
  const guarded = sql.replace(BACKEND_MACROS, (macro) => {
    macros.push(macro);
    return `\u0000${macros.length - 1}\u0000`;
  });
  const replaced = templateSrv.replace(guarded, scopedVars, sqlValue);
  return replaced.replace(/\u0000(\d+)\u0000/g, (_, index: string) => macros[Number(index)]);
}

/** quoteLiteral returns value as a PostgreSQL string literal. */
export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

function joinValues(value: unknown): string {
  if (Array.isArray(value)) {
    return value.map(String).join(LIST_SEPARATOR);
  }
  return String(value ?? '');
}

function sqlValue(value: unknown, variable?: VariableInfo): string {
  if (Array.isArray(value)) {
    return value.map((item) => quoteLiteral(String(item))).join(',');
  }
  if (typeof value === 'string' && (variable?.multi || variable?.includeAll)) {
    return quoteLiteral(value);
  }
  return String(value ?? '');
}
