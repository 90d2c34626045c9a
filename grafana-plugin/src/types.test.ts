import { describe, expect, it } from 'vitest';

import { OPTION_EDITORS } from './components/QueryEditor';
import { QUERY_TYPES, queryTypeInfo, withQueryType, type RLQuery } from './types';

describe('QUERY_TYPES', () => {
  it('names each query type once', () => {
    const values = QUERY_TYPES.map((info) => info.value);

    expect(new Set(values).size).toBe(values.length);
  });

  it('has an editor for every option it uses', () => {
    for (const info of QUERY_TYPES) {
      for (const option of info.options) {
        expect(OPTION_EDITORS[option], `${info.value}.${option}`).toBeTypeOf('function');
      }
    }
  });

  it('sets defaults only for options the type uses', () => {
    for (const info of QUERY_TYPES) {
      for (const key of Object.keys(info.defaults)) {
        expect(info.options, `${info.value} default ${key}`).toContain(key);
      }
    }
  });
});

describe('queryTypeInfo', () => {
  it('finds known types and not unknown ones', () => {
    expect(queryTypeInfo('signal')?.options).toEqual(['routers', 'metrics']);
    expect(queryTypeInfo('nosuch')).toBeUndefined();
    expect(queryTypeInfo(undefined)).toBeUndefined();
  });
});

describe('withQueryType', () => {
  const tests: Array<{ name: string; from: RLQuery; to: RLQuery['queryType']; want: RLQuery }> = [
    {
      name: 'new type gets its defaults',
      from: { refId: 'A', queryType: 'fleet_usage' },
      to: 'top_routers',
      want: { refId: 'A', queryType: 'top_routers', limit: 10, metric: 'total' },
    },
    {
      name: 'shared options are kept, others dropped',
      from: { refId: 'A', queryType: 'router_usage', routers: ['1'], metric: 'rx' },
      to: 'signal',
      want: {
        refId: 'A',
        queryType: 'signal',
        routers: ['1'],
        metrics: ['rsrp', 'rsrq', 'sinr', 'rssi'],
      },
    },
    {
      name: 'type without options drops everything but the DataQuery fields',
      from: { refId: 'B', hide: true, queryType: 'raw_sql', rawSql: 'SELECT 1', format: 'table' },
      to: 'ingest_health',
      want: { refId: 'B', hide: true, queryType: 'ingest_health' },
    },
  ];
  for (const tt of tests) {
    it(tt.name, () => {
      expect(withQueryType(tt.from, tt.to!)).toEqual(tt.want);
    });
  }

  it('does not share default arrays between queries', () => {
    const first = withQueryType({ refId: 'A' }, 'signal');
    first.metrics!.pop();

    expect(withQueryType({ refId: 'B' }, 'signal').metrics).toHaveLength(4);
  });
});
