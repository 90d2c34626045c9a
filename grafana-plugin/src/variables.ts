// Template variable support: a dashboard "Query" variable on this datasource
// runs a `variable` query, which lists routers (or, later, properties).
import {
  CustomVariableSupport,
  type DataQueryRequest,
  type DataQueryResponse,
} from '@grafana/data';
import type { Observable } from 'rxjs';

import { VariableQueryEditor } from './components/VariableQueryEditor';
import type { DataSource } from './datasource';
import type { RLQuery, VariableKind } from './types';

/** DEFAULT_VARIABLE_KIND is what a new template variable lists. */
export const DEFAULT_VARIABLE_KIND: VariableKind = 'routers';

/** RLVariableSupport runs template variable queries through the backend. */
export class RLVariableSupport extends CustomVariableSupport<DataSource, RLQuery> {
  editor = VariableQueryEditor;

  constructor(private readonly datasource: DataSource) {
    super();
  }

  /** query sends each variable target to the backend as a `variable` query. */
  query(request: DataQueryRequest<RLQuery>): Observable<DataQueryResponse> {
    const targets = request.targets.map((target) => toVariableQuery(target));
    return this.datasource.query({ ...request, targets });
  }
}

/**
 * toVariableQuery turns a stored variable query into a `variable` query. It
 * also takes the bare string ("routers") that a hand-written dashboard may
 * hold.
 */
export function toVariableQuery(target: RLQuery | string): RLQuery {
  if (typeof target === 'string') {
    return { refId: 'variable', queryType: 'variable', variable: asKind(target) };
  }
  return {
    ...target,
    refId: target.refId || 'variable',
    queryType: 'variable',
    variable: asKind(target.variable),
  };
}

function asKind(value: string | undefined): VariableKind {
  return value === 'properties' ? 'properties' : DEFAULT_VARIABLE_KIND;
}
