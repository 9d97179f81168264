/**
 * What both dialects share: a predicate printed with the dialect's columns and placeholders, and
 * the one SELECT shape (columns, FROM, WHERE, ORDER BY, LIMIT) around it. Every value becomes a
 * positional `?` parameter; the only literals are those the dialects format from checked inputs.
 */
import {
  type FieldPath,
  MAX_LIMIT,
  type OutputColumn,
  type Predicate,
  type QueryParam,
  type QueryPlan,
  QueryPlanError,
  quoteIdentifier,
} from './plan';

/** SQL text plus its positional parameters, in `?` order. */
export interface RenderedSql {
  sql: string;
  params: readonly QueryParam[];
}

/** Table alias in both dialects; qualified references never collide with output aliases. */
export const ALIAS = 'e';

export interface Dialect {
  /** A field reference, e.g. `e."userIdentity"."userName"`. */
  column(path: FieldPath): string;
  /** The SELECT expression of a leaf column. */
  select(column: Extract<OutputColumn, { kind: 'leaf' }>): string;
  /** A parameter placeholder of a value (the value itself goes to the parameter list). */
  param(value: QueryParam): string;
}

export const columnRef = (path: FieldPath): string =>
  [ALIAS, ...path.map((p) => quoteIdentifier(p))].join('.');

/** A predicate in the dialect's text; its values are appended to `params` in `?` order. */
export function renderPredicate(p: Predicate, dialect: Dialect, params: QueryParam[]): string {
  const bind = (value: QueryParam): string => {
    params.push(value);
    return dialect.param(value);
  };
  switch (p.kind) {
    case 'compare':
      return `${dialect.column(p.path)} ${p.op} ${bind(p.value)}`;
    case 'in':
      return `${dialect.column(p.path)} IN (${p.values.map(bind).join(', ')})`;
    case 'and':
      return `(${p.of.map((q) => renderPredicate(q, dialect, params)).join(' AND ')})`;
    case 'or':
      return `(${p.of.map((q) => renderPredicate(q, dialect, params)).join(' OR ')})`;
  }
}

export function renderSelect(
  plan: QueryPlan,
  dialect: Dialect,
  from: string,
  partition: string[],
): RenderedSql {
  const params: QueryParam[] = [];
  const columns = plan.columns.map((c) =>
    c.kind === 'struct-null'
      ? `${dialect.column(c.path)} IS NULL AS ${quoteAlias(c.alias)}`
      : `${dialect.select(c)} AS ${quoteAlias(c.alias)}`,
  );
  const where = [...partition, ...plan.where.map((p) => renderPredicate(p, dialect, params))];
  const limit = plan.limit;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIMIT)
    throw new QueryPlanError('limit out of range');
  const sql = [
    `SELECT ${columns.join(', ')}`,
    `FROM ${from} AS ${ALIAS}`,
    `WHERE ${where.join(' AND ')}`,
    `ORDER BY ${plan.orderBy.map((p) => `${dialect.column(p)} ASC`).join(', ')}`,
    `LIMIT ${limit}`,
  ].join('\n');
  return { sql, params };
}

/** Output aliases are field paths (`userIdentity.userName`, `userIdentity.$null`) built from checked names. */
function quoteAlias(alias: string): string {
  if (!/^[A-Za-z0-9_.$]+$/.test(alias)) throw new QueryPlanError(`unsafe alias ${alias}`);
  return `"${alias}"`;
}
