import { describe, expect, it } from 'vitest';

import { interpolateNumber, interpolateSql, quoteLiteral } from './templating';
import { FakeTemplateSrv } from './test/fakes';

describe('interpolateNumber', () => {
  const srv = new FakeTemplateSrv([
    { name: 'n', value: '42' },
    { name: 'bad', value: 'ten' },
  ]);
  const tests: Array<{
    name: string;
    value: number | string | undefined;
    want: number | undefined;
  }> = [
    { name: 'number passes', value: 7, want: 7 },
    { name: 'undefined stays', value: undefined, want: undefined },
    { name: 'variable is parsed', value: '$n', want: 42 },
    { name: 'not a number unsets', value: '$bad', want: undefined },
    { name: 'empty unsets', value: ' ', want: undefined },
  ];
  for (const tt of tests) {
    it(tt.name, () => {
      expect(interpolateNumber(srv, tt.value, {})).toBe(tt.want);
    });
  }
});

describe('interpolateSql', () => {
  const srv = new FakeTemplateSrv([
    { name: 'one', value: 'x' },
    { name: 'all', value: 'y', includeAll: true },
    { name: '__interval', value: '5m' },
  ]);
  const tests: Array<{ name: string; sql: string; want: string }> = [
    { name: 'single value is raw', sql: 'WHERE a = $one', want: 'WHERE a = x' },
    { name: 'include-all value is quoted', sql: 'WHERE a IN ($all)', want: "WHERE a IN ('y')" },
    {
      name: 'interval macros stay for the backend',
      sql: '$__interval ${__interval} $__interval_ms',
      want: '$__interval ${__interval} $__interval_ms',
    },
    {
      name: 'time macros stay',
      sql: '$__timeFilter(bucket) $__timeGroupAlias(bucket, 5m)',
      want: '$__timeFilter(bucket) $__timeGroupAlias(bucket, 5m)',
    },
  ];
  for (const tt of tests) {
    it(tt.name, () => {
      expect(interpolateSql(srv, tt.sql, {})).toBe(tt.want);
    });
  }
});

describe('quoteLiteral', () => {
  it('doubles single quotes', () => {
    expect(quoteLiteral("it's")).toBe("'it''s'");
  });
});
