// Fakes for the Grafana runtime services at the plugin's boundary: the
// template service (dashboard variables) and the backend service (HTTP to
// Grafana). Tests install them with setTemplateSrv / setBackendSrv.
import type {
  DataSourceInstanceSettings,
  DataSourcePluginMeta,
  ScopedVars,
  TypedVariableModel,
} from '@grafana/data';
import type { BackendSrv, BackendSrvRequest, FetchResponse, TemplateSrv } from '@grafana/runtime';
import { of, throwError, type Observable } from 'rxjs';

import type { RLOptions } from '../types';

/** FakeVariable is one dashboard variable with its current value. */
export interface FakeVariable {
  name: string;
  value: string | string[];
  multi?: boolean;
  includeAll?: boolean;
}

type FormatFn = (value: unknown, variable: unknown, fallback: unknown) => string;

/**
 * FakeTemplateSrv replaces $name and ${name} from scoped vars, then from its
 * variables, and hands multi-value values to a format function the way
 * Grafana's TemplateSrv does. Unknown names are left as they are.
 */
export class FakeTemplateSrv implements TemplateSrv {
  constructor(private readonly variables: FakeVariable[] = []) {}

  getVariables(): TypedVariableModel[] {
    return this.variables.map(
      (v) =>
        ({
          name: v.name,
          type: 'query',
          multi: v.multi ?? false,
          includeAll: v.includeAll ?? false,
          current: { value: v.value, text: v.value },
        }) as unknown as TypedVariableModel
    );
  }

  replace(target?: string, scopedVars?: ScopedVars, format?: string | Function): string {
    return (target ?? '').replace(
      /\$\{(\w+)\}|\$(\w+)/g,
      (match, braced?: string, bare?: string) => {
        const name = (braced ?? bare) as string;
        const scoped = scopedVars?.[name];
        const variable = this.variables.find((v) => v.name === name);
        if (!scoped && !variable) {
          return match;
        }

        const value = scoped ? scoped.value : variable!.value;
        if (typeof format === 'function') {
          return (format as FormatFn)(value, variable ?? { name }, undefined);
        }
        return Array.isArray(value) ? `{${value.join(',')}}` : String(value);
      }
    );
  }

  containsTemplate(target?: string): boolean {
    return /\$\{?\w+/.test(target ?? '');
  }

  updateTimeRange(): void {}
}

/** FakeBackendSrv answers fetch calls from a handler and records the requests. */
export class FakeBackendSrv {
  readonly requests: BackendSrvRequest[] = [];

  constructor(private readonly handler: (req: BackendSrvRequest) => unknown) {}

  fetch<T>(req: BackendSrvRequest): Observable<FetchResponse<T>> {
    this.requests.push(req);
    try {
      const data = this.handler(req) as T;
      return of({
        data,
        status: 200,
        statusText: 'OK',
        ok: true,
        headers: new Headers(),
        redirected: false,
        type: 'basic',
        url: req.url,
        config: req,
      });
    } catch (err) {
      return throwError(() => err);
    }
  }

  /** asBackendSrv types the fake for setBackendSrv; only fetch is used. */
  asBackendSrv(): BackendSrv {
    return this as unknown as BackendSrv;
  }
}

/** newInstanceSettings are the settings of the provisioned datasource, with empty jsonData. */
export function newInstanceSettings(): DataSourceInstanceSettings<RLOptions> {
  return {
    id: 1,
    uid: 'routerlogger',
    type: 'routerlogger-fleet-datasource',
    name: 'RouterLogger',
    access: 'proxy',
    readOnly: false,
    jsonData: {},
    meta: {
      id: 'routerlogger-fleet-datasource',
      name: 'RouterLogger',
    } as DataSourcePluginMeta<RLOptions>,
  };
}
