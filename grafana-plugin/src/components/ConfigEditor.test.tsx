import type { DataSourceSettings } from '@grafana/data';
import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useState } from 'react';
import { describe, expect, it, vi } from 'vitest';

import type { RLOptions, RLSecureJsonData } from '../types';
import { ConfigEditor } from './ConfigEditor';

type Settings = DataSourceSettings<RLOptions, RLSecureJsonData>;

function settings(patch: Partial<Settings> = {}): Settings {
  return {
    id: 1,
    uid: 'routerlogger',
    orgId: 1,
    name: 'RouterLogger',
    typeLogoUrl: '',
    type: 'routerlogger-fleet-datasource',
    typeName: 'RouterLogger',
    access: 'proxy',
    url: '',
    user: '',
    database: '',
    basicAuth: false,
    basicAuthUser: '',
    isDefault: false,
    jsonData: {},
    secureJsonFields: {},
    readOnly: false,
    withCredentials: false,
    ...patch,
  };
}

// renderEditor renders ConfigEditor the way Grafana does: the page holds the
// settings and passes them back in after each change.
function renderEditor(initial: Settings) {
  const changes = vi.fn<(s: Settings) => void>();
  function Page() {
    const [options, setOptions] = useState(initial);
    return (
      <ConfigEditor
        options={options}
        onOptionsChange={(next) => {
          changes(next);
          setOptions(next);
        }}
      />
    );
  }
  render(<Page />);
  const last = (): Settings => {
    expect(changes).toHaveBeenCalled();
    return changes.mock.lastCall![0];
  };
  return { changes, last };
}

describe('ConfigEditor', () => {
  it('shows stored settings and the defaults as placeholders', () => {
    renderEditor(settings({ jsonData: { host: 'db.internal:5432', maxRows: 500 } }));

    expect(screen.getByLabelText('Host')).toHaveValue('db.internal:5432');
    expect(screen.getByLabelText('Database')).toHaveValue('');
    expect(screen.getByLabelText('Database')).toHaveAttribute('placeholder', 'routerlogger');
    expect(screen.getByLabelText('User')).toHaveAttribute('placeholder', 'routerlogger_grafana');
    expect(screen.getByLabelText('Max rows')).toHaveValue(500);
    expect(screen.getByLabelText('Query timeout (s)')).toHaveAttribute('placeholder', '10');
    expect(screen.getByLabelText('Offline after (min)')).toHaveAttribute('placeholder', '30');
    expect(screen.getByText('disable')).toBeInTheDocument();
  });

  const textFields: Array<{ label: string; key: keyof RLOptions; typed: string }> = [
    { label: 'Host', key: 'host', typed: '10.0.0.5:6432' },
    { label: 'Database', key: 'database', typed: 'fleet' },
    { label: 'User', key: 'user', typed: 'grafana_ro' },
  ];
  for (const tt of textFields) {
    it(`writes ${tt.key} into jsonData`, async () => {
      const { last } = renderEditor(settings({ jsonData: { maxRows: 7 } }));

      await userEvent.type(screen.getByLabelText(tt.label), tt.typed);

      expect(last().jsonData).toEqual({ maxRows: 7, [tt.key]: tt.typed });
      expect(last().secureJsonData).toBeUndefined();
    });
  }

  const numberFields: Array<{ label: string; key: keyof RLOptions }> = [
    { label: 'Query timeout (s)', key: 'queryTimeoutSeconds' },
    { label: 'Max rows', key: 'maxRows' },
    { label: 'Max connections', key: 'maxOpenConns' },
    { label: 'Cache TTL (s)', key: 'cacheTTLSeconds' },
    { label: 'Offline after (min)', key: 'offlineAfterMinutes' },
  ];
  for (const tt of numberFields) {
    it(`writes ${tt.key} into jsonData as a number`, async () => {
      const { last } = renderEditor(settings({ jsonData: { host: 'h:1' } }));

      await userEvent.type(screen.getByLabelText(tt.label), '25');

      expect(last().jsonData).toEqual({ host: 'h:1', [tt.key]: 25 });
    });
  }

  it('unsets a number option when cleared', async () => {
    const { last } = renderEditor(settings({ jsonData: { maxRows: 500 } }));

    await userEvent.clear(screen.getByLabelText('Max rows'));

    expect(last().jsonData.maxRows).toBeUndefined();
  });

  it('picks the sslmode from the select', async () => {
    const { last } = renderEditor(settings());

    await userEvent.click(screen.getByLabelText('SSL mode'));
    await userEvent.click(await screen.findByText('verify-full'));

    expect(last().jsonData).toEqual({ sslmode: 'verify-full' });
  });

  it('writes the password into secureJsonData only', async () => {
    const { last } = renderEditor(settings({ jsonData: { user: 'u' } }));

    await userEvent.type(screen.getByLabelText('Password'), 's3cret');

    expect(last().secureJsonData).toEqual({ password: 's3cret' });
    expect(last().jsonData).toEqual({ user: 'u' });
  });

  it('resets a configured password', async () => {
    const { last } = renderEditor(settings({ secureJsonFields: { password: true } }));
    expect(screen.getByLabelText('Password')).toBeDisabled();

    await userEvent.click(screen.getByRole('button', { name: 'Reset' }));

    expect(last().secureJsonFields).toEqual({ password: false });
    expect(last().secureJsonData).toEqual({ password: '' });
    expect(screen.getByLabelText('Password')).toBeEnabled();
  });
});
