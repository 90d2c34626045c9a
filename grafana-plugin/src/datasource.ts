// DataSource is the browser side of the RouterLogger datasource: queries run
// in the Go backend; this class fills in template variables, hides hidden
// queries and loads the router list for the editor's picker.
import type { CoreApp, DataSourceInstanceSettings, ScopedVars } from '@grafana/data';
import { DataSourceWithBackend, getTemplateSrv } from '@grafana/runtime';

import {
  interpolateList,
  interpolateNumber,
  interpolateSql,
  interpolateString,
} from './templating';
import { DEFAULT_QUERY_TYPE, type RLOptions, type RLQuery } from './types';
import { RLVariableSupport } from './variables';

/** RouterInfo is one router as the backend's `routers` resource lists it. */
export interface RouterInfo {
  serial: string;
  name: string;
}

/** DataSource is the RouterLogger datasource instance in the browser. */
export class DataSource extends DataSourceWithBackend<RLQuery, RLOptions> {
  constructor(instanceSettings: DataSourceInstanceSettings<RLOptions>) {
    super(instanceSettings);
    this.variables = new RLVariableSupport(this);
    this.annotations = {
      getDefaultQuery: () => ({ queryType: 'events' }),
    };
  }

  /** getDefaultQuery is the query a new panel starts with. */
  getDefaultQuery(_app: CoreApp): Partial<RLQuery> {
    return { queryType: DEFAULT_QUERY_TYPE };
  }

  /** filterQuery keeps a query out of the request when it is hidden. */
  filterQuery(query: RLQuery): boolean {
    return !query.hide;
  }

  /**
   * applyTemplateVariables interpolates every string option of query.
   * List options (routers, metrics, events, jobs, statuses) get one entry per value of a
   * multi-value variable, so `["$router"]` becomes the selected serials.
   */
  applyTemplateVariables(query: RLQuery, scopedVars: ScopedVars): RLQuery {
    const srv = getTemplateSrv();
    const next: RLQuery = {
      ...query,
      routers: interpolateList(srv, query.routers, scopedVars),
      metrics: interpolateList(srv, query.metrics, scopedVars),
      events: interpolateList(srv, query.events, scopedVars),
      jobs: interpolateList(srv, query.jobs, scopedVars),
      statuses: interpolateList(srv, query.statuses, scopedVars),
      metric: interpolateString(srv, query.metric, scopedVars),
      format: interpolateString(srv, query.format, scopedVars),
      variable: interpolateString(srv, query.variable, scopedVars),
      rawSql: interpolateSql(srv, query.rawSql, scopedVars),
      limit: interpolateNumber(srv, query.limit, scopedVars),
      windowMinutes: interpolateNumber(srv, query.windowMinutes, scopedVars),
      thresholdSeconds: interpolateNumber(srv, query.thresholdSeconds, scopedVars),
    };
    return dropUndefined(next);
  }

  /** getRouters lists the known routers from the backend resource `GET routers`. */
  async getRouters(): Promise<RouterInfo[]> {
    const body = await this.getResource<unknown>('routers');
    return parseRouters(body);
  }
}

/**
 * parseRouters reads the `routers` resource body: an array of
 * {serial, name} objects (or of serial strings), bare or under a `routers` key.
 */
export function parseRouters(body: unknown): RouterInfo[] {
  const list = isRecord(body) && Array.isArray(body.routers) ? body.routers : body;
  if (!Array.isArray(list)) {
    throw new Error(`routers resource: expected a list of routers, got ${typeof body}`);
  }
  return list.flatMap((item): RouterInfo[] => {
    if (typeof item === 'string') {
      return [{ serial: item, name: item }];
    }
    if (isRecord(item) && typeof item.serial === 'string' && item.serial !== '') {
      const name = typeof item.name === 'string' && item.name !== '' ? item.name : item.serial;
      return [{ serial: item.serial, name }];
    }
    return [];
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function dropUndefined<T extends object>(value: T): T {
  const out = { ...value };
  for (const key of Object.keys(out) as Array<keyof T>) {
    if (out[key] === undefined) {
      delete out[key];
    }
  }
  return out;
}
