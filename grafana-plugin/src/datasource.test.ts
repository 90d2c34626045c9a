import { CoreApp, dateTime, type DataQueryRequest, type ScopedVars } from '@grafana/data';
import { setBackendSrv, setTemplateSrv, type BackendSrvRequest } from '@grafana/runtime';
import { lastValueFrom } from 'rxjs';
import { beforeEach, describe, expect, it } from 'vitest';

import { DataSource, parseRouters } from './datasource';
import {
  FakeBackendSrv,
  FakeTemplateSrv,
  newInstanceSettings,
  type FakeVariable,
} from './test/fakes';
import type { RLQuery } from './types';
import { RLVariableSupport } from './variables';

const SERIALS = ['6000000001', '6000000002', '6000000003'];

function setVariables(...variables: FakeVariable[]) {
  setTemplateSrv(new FakeTemplateSrv(variables));
}

function request(targets: RLQuery[], scopedVars: ScopedVars = {}): DataQueryRequest<RLQuery> {
  const from = dateTime('2025-03-14T00:00:00Z');
  const to = dateTime('2025-03-15T00:00:00Z');
  return {
    requestId: 'r1',
    interval: '1h',
    intervalMs: 3_600_000,
    maxDataPoints: 500,
    range: { from, to, raw: { from, to } },
    scopedVars,
    targets,
    timezone: 'utc',
    app: CoreApp.Dashboard,
    startTime: 0,
  };
}

// queryBackend answers /api/ds/query with an empty result and records what
// the datasource posted.
function queryBackend(): FakeBackendSrv {
  const srv = new FakeBackendSrv(() => ({ results: {} }));
  setBackendSrv(srv.asBackendSrv());
  return srv;
}

function postedQueries(srv: FakeBackendSrv): RLQuery[] {
  const post = srv.requests.find((r: BackendSrvRequest) => r.url.startsWith('/api/ds/query'));
  expect(post, 'a POST to /api/ds/query').toBeDefined();
  return (post!.data as { queries: RLQuery[] }).queries;
}

describe('DataSource.applyTemplateVariables', () => {
  beforeEach(() => setVariables());

  const tests: Array<{
    name: string;
    variables: FakeVariable[];
    routers: string[];
    want: string[];
  }> = [
    {
      name: 'multi-value $router expands into the selected serials',
      variables: [{ name: 'router', value: SERIALS.slice(0, 2), multi: true }],
      routers: ['$router'],
      want: SERIALS.slice(0, 2),
    },
    {
      name: 'All without custom value expands into every serial',
      variables: [{ name: 'router', value: SERIALS, multi: true, includeAll: true }],
      routers: ['${router}'],
      want: SERIALS,
    },
    {
      name: 'custom all value $__all passes through',
      variables: [{ name: 'router', value: '$__all', multi: true, includeAll: true }],
      routers: ['$router'],
      want: ['$__all'],
    },
    {
      name: 'single value gives one serial',
      variables: [{ name: 'router', value: SERIALS[2] }],
      routers: ['$router'],
      want: [SERIALS[2]],
    },
    {
      name: 'literal serials are kept and duplicates dropped',
      variables: [{ name: 'router', value: SERIALS.slice(0, 2), multi: true }],
      routers: [SERIALS[1], '$router', ''],
      want: [SERIALS[1], SERIALS[0]],
    },
    {
      name: 'unknown variable is left for the backend to reject',
      variables: [],
      routers: ['$nosuch'],
      want: ['$nosuch'],
    },
  ];
  for (const tt of tests) {
    it(tt.name, () => {
      setVariables(...tt.variables);
      const ds = new DataSource(newInstanceSettings());

      const got = ds.applyTemplateVariables(
        { refId: 'A', queryType: 'router_usage', routers: tt.routers, metric: 'total' },
        {}
      );

      expect(got.routers).toEqual(tt.want);
      expect(got.metric).toBe('total');
    });
  }

  it('interpolates rawSql with quoted multi-values and keeps backend macros', () => {
    setVariables(
      { name: 'router', value: ['6000000001', "o'brien"], multi: true },
      { name: 'table', value: 'router_usage_daily' }
    );
    const ds = new DataSource(newInstanceSettings());
    const sql =
      'SELECT $__timeGroup(bucket, $__interval) AS time, sum(total_bytes) FROM $table ' +
      'WHERE $__timeFilter(bucket) AND serial IN ($router) GROUP BY 1';

    const got = ds.applyTemplateVariables(
      { refId: 'A', queryType: 'raw_sql', rawSql: sql, format: 'table' },
      { __interval: { text: '1h', value: '1h' } }
    );

    expect(got.rawSql).toBe(
      'SELECT $__timeGroup(bucket, $__interval) AS time, sum(total_bytes) ' +
        'FROM router_usage_daily ' +
        "WHERE $__timeFilter(bucket) AND serial IN ('6000000001','o''brien') GROUP BY 1"
    );
    expect(got.format).toBe('table');
  });

  it('interpolates list, string and number options from scoped vars', () => {
    const ds = new DataSource(newInstanceSettings());
    const scoped: ScopedVars = {
      kinds: { text: 'kinds', value: ['reboot', 'gap'] },
      m: { text: 'm', value: 'rx' },
      n: { text: 'n', value: '5' },
    };
    const query = {
      refId: 'A',
      queryType: 'top_routers',
      events: ['$kinds'],
      metric: '$m',
      limit: '$n',
    } as unknown as RLQuery;

    const got = ds.applyTemplateVariables(query, scoped);

    expect(got).toEqual({
      refId: 'A',
      queryType: 'top_routers',
      events: ['reboot', 'gap'],
      metric: 'rx',
      limit: 5,
    });
  });

  it('spreads a multi-value job variable into the jobs option', () => {
    const ds = new DataSource(newInstanceSettings());
    const scoped: ScopedVars = { job: { text: 'job', value: ['rms', 'clickup'] } };

    const got = ds.applyTemplateVariables(
      { refId: 'A', queryType: 'sync_runs', jobs: ['$job', 'rms'], statuses: ['failed'] },
      scoped
    );

    expect(got).toEqual({
      refId: 'A',
      queryType: 'sync_runs',
      jobs: ['rms', 'clickup'],
      statuses: ['failed'],
    });
  });

  it('adds no option the query did not have', () => {
    const ds = new DataSource(newInstanceSettings());

    const got = ds.applyTemplateVariables({ refId: 'B', queryType: 'fleet_usage' }, {});

    expect(got).toEqual({ refId: 'B', queryType: 'fleet_usage' });
  });
});

describe('DataSource.query', () => {
  it('posts the interpolated queries to the backend', async () => {
    setVariables({ name: 'router', value: SERIALS.slice(1), multi: true });
    const srv = queryBackend();
    const ds = new DataSource(newInstanceSettings());

    await lastValueFrom(
      ds.query(
        request([{ refId: 'A', queryType: 'signal', routers: ['$router'], metrics: ['rsrp'] }])
      )
    );

    const [posted] = postedQueries(srv);
    expect(posted).toMatchObject({
      refId: 'A',
      queryType: 'signal',
      routers: SERIALS.slice(1),
      metrics: ['rsrp'],
      datasource: { uid: 'routerlogger', type: 'routerlogger-fleet-datasource' },
    });
  });
});

describe('DataSource.filterQuery', () => {
  it('drops hidden queries only', () => {
    const ds = new DataSource(newInstanceSettings());

    expect(ds.filterQuery({ refId: 'A', hide: true })).toBe(false);
    expect(ds.filterQuery({ refId: 'A', hide: false })).toBe(true);
    expect(ds.filterQuery({ refId: 'A' })).toBe(true);
  });
});

describe('DataSource.getDefaultQuery', () => {
  it('starts with fleet usage', () => {
    const ds = new DataSource(newInstanceSettings());

    expect(ds.getDefaultQuery(CoreApp.PanelEditor)).toEqual({ queryType: 'fleet_usage' });
  });
});

describe('DataSource.getRouters', () => {
  it('reads the routers resource of this datasource', async () => {
    const srv = new FakeBackendSrv(() => [
      { serial: SERIALS[0], name: 'RL-TEST-001' },
      { serial: SERIALS[1], name: '' },
    ]);
    setBackendSrv(srv.asBackendSrv());
    const ds = new DataSource(newInstanceSettings());

    const routers = await ds.getRouters();

    expect(routers).toEqual([
      { serial: SERIALS[0], name: 'RL-TEST-001' },
      { serial: SERIALS[1], name: SERIALS[1] },
    ]);
    expect(srv.requests.map((r) => [r.method, r.url])).toEqual([
      ['GET', '/api/datasources/uid/routerlogger/resources/routers'],
    ]);
  });

  it('rejects when the backend fails', async () => {
    setBackendSrv(
      new FakeBackendSrv(() => {
        throw new Error('database unreachable');
      }).asBackendSrv()
    );
    const ds = new DataSource(newInstanceSettings());

    await expect(ds.getRouters()).rejects.toThrow('database unreachable');
  });
});

describe('parseRouters', () => {
  const tests: Array<{
    name: string;
    body: unknown;
    want: Array<{ serial: string; name: string }>;
  }> = [
    {
      name: 'array of objects',
      body: [{ serial: 'a', name: 'A' }],
      want: [{ serial: 'a', name: 'A' }],
    },
    {
      name: 'wrapped in routers',
      body: { routers: [{ serial: 'b' }] },
      want: [{ serial: 'b', name: 'b' }],
    },
    { name: 'array of strings', body: ['c'], want: [{ serial: 'c', name: 'c' }] },
    { name: 'entries without serial are skipped', body: [{ name: 'x' }, 7, null], want: [] },
  ];
  for (const tt of tests) {
    it(tt.name, () => {
      expect(parseRouters(tt.body)).toEqual(tt.want);
    });
  }

  it('rejects a body that is not a list', () => {
    expect(() => parseRouters('oops')).toThrow(/expected a list of routers, got string/);
  });
});

describe('RLVariableSupport.query', () => {
  it('sends each target as a variable query', async () => {
    setVariables();
    const srv = queryBackend();
    const ds = new DataSource(newInstanceSettings());
    expect(ds.variables).toBeInstanceOf(RLVariableSupport);

    const support = ds.variables as RLVariableSupport;
    await lastValueFrom(support.query(request([{ refId: 'V', variable: 'properties' }])));

    expect(postedQueries(srv)).toMatchObject([
      { refId: 'V', queryType: 'variable', variable: 'properties' },
    ]);
  });
});
