import { setBackendSrv, setTemplateSrv } from '@grafana/runtime';
import { act, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useState } from 'react';
import { beforeEach, describe, expect, it, vi } from 'vitest';

import { DataSource } from '../datasource';
import { FakeBackendSrv, FakeTemplateSrv, newInstanceSettings } from '../test/fakes';
import { QUERY_TYPES, withQueryType, type QueryOption, type RLQuery } from '../types';
import { QueryEditor } from './QueryEditor';

// OPTION_LABELS is the field label each option editor shows.
const OPTION_LABELS: Record<QueryOption, string> = {
  routers: 'Routers',
  metric: 'Metric',
  limit: 'Limit',
  metrics: 'Metrics',
  events: 'Events',
  windowMinutes: 'Window (min)',
  thresholdSeconds: 'Threshold (s)',
  jobs: 'Jobs',
  statuses: 'Statuses',
  rawSql: 'SQL',
  format: 'Format',
  variable: 'Values',
};

const ROUTERS = [
  { serial: '6000000001', name: 'RL-TEST-001' },
  { serial: '6000000002', name: 'RL-TEST-002' },
];

let backend: FakeBackendSrv;

beforeEach(() => {
  backend = new FakeBackendSrv(() => ROUTERS);
  setBackendSrv(backend.asBackendSrv());
  setTemplateSrv(new FakeTemplateSrv([{ name: 'router', value: ['6000000001'], multi: true }]));
});

// renderEditor renders QueryEditor inside a holder that feeds each change
// back in, as the panel editor does, and waits for the router list to load.
async function renderEditor(initial: RLQuery) {
  const changes = vi.fn<(q: RLQuery) => void>();
  const runs = vi.fn();
  const datasource = new DataSource(newInstanceSettings());
  function Panel() {
    const [query, setQuery] = useState(initial);
    const onChange = (next: RLQuery) => {
      changes(next);
      setQuery(next);
    };
    return (
      <QueryEditor query={query} datasource={datasource} onChange={onChange} onRunQuery={runs} />
    );
  }

  await act(async () => {
    render(<Panel />);
  });
  const last = (): RLQuery => {
    expect(changes).toHaveBeenCalled();
    return changes.mock.lastCall![0];
  };
  return { changes, runs, last };
}

function fieldLabel(text: string): HTMLElement | null {
  return screen.queryByText(text, { selector: 'label' });
}

// shownType is the query type the type picker displays.
function shownType(label: string): HTMLElement {
  const field = screen.getByText('Query type', { selector: 'label' }).parentElement!;
  return within(field).getByText(label);
}

async function pick(label: string, option: string) {
  await userEvent.click(screen.getByLabelText(label));
  await userEvent.click(await screen.findByText(option));
}

describe('QueryEditor', () => {
  for (const info of QUERY_TYPES) {
    it(`shows the options of ${info.value} from the table`, async () => {
      await renderEditor(withQueryType({ refId: 'A' }, info.value));

      expect(shownType(info.label)).toBeInTheDocument();
      for (const [option, label] of Object.entries(OPTION_LABELS)) {
        const want = info.options.includes(option as QueryOption);
        expect(fieldLabel(label) !== null, `${info.value}: ${label} shown`).toBe(want);
      }
    });
  }

  it('treats a query without type as fleet usage', async () => {
    await renderEditor({ refId: 'A' });

    expect(shownType('Fleet usage')).toBeInTheDocument();
  });

  it('reports an unknown query type', async () => {
    await renderEditor({ refId: 'A', queryType: 'nosuch' as RLQuery['queryType'] });

    expect(screen.getByText('Unknown query type "nosuch"')).toBeInTheDocument();
  });

  it('switches the query type with its defaults and reruns', async () => {
    const { last, runs } = await renderEditor({ refId: 'A', queryType: 'fleet_usage' });

    await pick('Query type', 'Top routers');

    expect(last()).toEqual({ refId: 'A', queryType: 'top_routers', limit: 10, metric: 'total' });
    expect(runs).toHaveBeenCalledTimes(1);
  });

  it('picks the usage metric', async () => {
    const { last, runs } = await renderEditor(withQueryType({ refId: 'A' }, 'router_usage'));

    await userEvent.click(screen.getByText('RX'));

    expect(last()).toEqual({ refId: 'A', queryType: 'router_usage', routers: [], metric: 'rx' });
    expect(runs).toHaveBeenCalledTimes(1);
  });

  it('edits the limit as a number and reruns on blur', async () => {
    const { last, runs } = await renderEditor(withQueryType({ refId: 'A' }, 'top_routers'));

    await userEvent.clear(screen.getByLabelText('Limit'));
    await userEvent.type(screen.getByLabelText('Limit'), '25');
    expect(runs).not.toHaveBeenCalled();
    await userEvent.tab();

    expect(last()).toEqual({ refId: 'A', queryType: 'top_routers', limit: 25, metric: 'total' });
    expect(runs).toHaveBeenCalledTimes(1);
  });

  const numberOptions: Array<{ type: RLQuery['queryType']; label: string; key: keyof RLQuery }> = [
    { type: 'alert_reject_rate', label: 'Window (min)', key: 'windowMinutes' },
    { type: 'alert_slow_queries', label: 'Threshold (s)', key: 'thresholdSeconds' },
  ];
  for (const tt of numberOptions) {
    it(`edits ${tt.key}`, async () => {
      const { last } = await renderEditor(withQueryType({ refId: 'A' }, tt.type!));

      await userEvent.clear(screen.getByLabelText(tt.label));
      await userEvent.type(screen.getByLabelText(tt.label), '30');

      expect(last()).toEqual({ refId: 'A', queryType: tt.type, [tt.key]: 30 });
    });
  }

  it('adds a signal metric', async () => {
    const { last } = await renderEditor({ refId: 'A', queryType: 'signal', metrics: ['rsrp'] });

    await pick('Metrics', 'SINR');

    expect(last()).toEqual({ refId: 'A', queryType: 'signal', metrics: ['rsrp', 'sinr'] });
  });

  it('filters on event kinds', async () => {
    const { last } = await renderEditor(withQueryType({ refId: 'A' }, 'events'));

    await pick('Events', 'Reboot');

    expect(last()).toEqual({ refId: 'A', queryType: 'events', routers: [], events: ['reboot'] });
  });

  it('filters sync runs on jobs and statuses', async () => {
    const { last } = await renderEditor(withQueryType({ refId: 'A' }, 'sync_runs'));

    await pick('Jobs', 'rms');
    await pick('Statuses', 'Partial');

    expect(last()).toEqual({
      refId: 'A',
      queryType: 'sync_runs',
      jobs: ['rms'],
      statuses: ['partial'],
    });
  });

  it('keeps a job it does not offer', async () => {
    await renderEditor({ refId: 'A', queryType: 'sync_job_health', jobs: ['billing'] });

    expect(screen.getByText('billing')).toBeInTheDocument();
  });

  it('offers routers from the backend and template variables', async () => {
    const { last } = await renderEditor(withQueryType({ refId: 'A' }, 'router_status'));
    expect(backend.requests.map((r) => r.url)).toEqual([
      '/api/datasources/uid/routerlogger/resources/routers',
    ]);

    await userEvent.click(screen.getByLabelText('Routers'));
    expect(await screen.findByText('$router')).toBeInTheDocument();
    expect(screen.getByText('RL-TEST-001')).toBeInTheDocument();
    await userEvent.click(screen.getByText('RL-TEST-002'));

    expect(last()).toEqual({ refId: 'A', queryType: 'router_status', routers: ['6000000002'] });
  });

  it('keeps a selected serial the backend does not list', async () => {
    await renderEditor({ refId: 'A', queryType: 'router_status', routers: ['9999'] });

    expect(screen.getByText('9999')).toBeInTheDocument();
  });

  const loadErrors: Array<{ name: string; thrown: unknown; want: string }> = [
    {
      name: 'backend error body',
      thrown: { status: 500, data: { error: 'routers: database unreachable' } },
      want: 'Cannot load routers: routers: database unreachable',
    },
    {
      name: 'Grafana error body',
      thrown: { status: 404, data: { message: 'Plugin not found' } },
      want: 'Cannot load routers: Plugin not found',
    },
    {
      name: 'exception',
      thrown: new Error('connection refused'),
      want: 'Cannot load routers: connection refused',
    },
  ];
  for (const tt of loadErrors) {
    it(`shows why the router list is missing: ${tt.name}`, async () => {
      setBackendSrv(
        new FakeBackendSrv(() => {
          throw tt.thrown;
        }).asBackendSrv()
      );

      await renderEditor(withQueryType({ refId: 'A' }, 'signal'));

      await waitFor(() => expect(screen.getByText(tt.want)).toBeInTheDocument());
    });
  }

  it('edits raw SQL and reruns on blur', async () => {
    const { last, runs } = await renderEditor({
      refId: 'A',
      queryType: 'raw_sql',
      rawSql: 'SELECT 1',
    });

    await userEvent.type(screen.getByLabelText('SQL'), ' AS one');
    expect(runs).not.toHaveBeenCalled();
    await userEvent.tab();

    expect(last()).toEqual({ refId: 'A', queryType: 'raw_sql', rawSql: 'SELECT 1 AS one' });
    expect(runs).toHaveBeenCalledTimes(1);
  });

  it('picks the raw SQL format', async () => {
    const { last } = await renderEditor(withQueryType({ refId: 'A' }, 'raw_sql'));

    await userEvent.click(screen.getByText('Table'));

    expect(last()).toMatchObject({ queryType: 'raw_sql', format: 'table' });
  });

  it('picks the variable kind', async () => {
    const { last } = await renderEditor(withQueryType({ refId: 'A' }, 'variable'));

    await pick('Values', 'Properties');

    expect(last()).toEqual({ refId: 'A', queryType: 'variable', variable: 'properties' });
  });
});
