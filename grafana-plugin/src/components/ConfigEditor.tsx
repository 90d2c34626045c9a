// ConfigEditor edits the datasource settings: the PostgreSQL connection and
// the limits the backend applies to every query.
import type { DataSourcePluginOptionsEditorProps, SelectableValue } from '@grafana/data';
import { FieldSet, InlineField, Input, SecretInput, Select } from '@grafana/ui';
import type { ChangeEvent } from 'react';

import { DEFAULT_OPTIONS, type RLOptions, type RLSecureJsonData, type SSLMode } from '../types';
import { parseNumber } from './numbers';

/** ConfigEditorProps are the props Grafana passes to a datasource config page. */
export type ConfigEditorProps = DataSourcePluginOptionsEditorProps<RLOptions, RLSecureJsonData>;

type TextOption = 'host' | 'database' | 'user';
type NumberOption =
  | 'queryTimeoutSeconds'
  | 'maxRows'
  | 'maxOpenConns'
  | 'cacheTTLSeconds'
  | 'offlineAfterMinutes';

const LABEL_WIDTH = 26;
const INPUT_WIDTH = 40;

const SSL_MODES: Array<SelectableValue<SSLMode>> = [
  { value: 'disable', label: 'disable', description: 'No TLS' },
  { value: 'prefer', label: 'prefer', description: 'TLS when the server offers it' },
  { value: 'require', label: 'require', description: 'TLS, without checking the certificate' },
  {
    value: 'verify-ca',
    label: 'verify-ca',
    description: 'TLS, certificate signed by a trusted CA',
  },
  { value: 'verify-full', label: 'verify-full', description: 'TLS, CA and host name checked' },
];

const TEXT_FIELDS: Array<{ key: TextOption; label: string; tooltip: string }> = [
  { key: 'host', label: 'Host', tooltip: 'PostgreSQL address as host:port.' },
  { key: 'database', label: 'Database', tooltip: 'Database that holds the RouterLogger schema.' },
  {
    key: 'user',
    label: 'User',
    tooltip: 'Login role; it should be a member of routerlogger_reader and nothing more.',
  },
];

const NUMBER_FIELDS: Array<{ key: NumberOption; label: string; tooltip: string }> = [
  {
    key: 'queryTimeoutSeconds',
    label: 'Query timeout (s)',
    tooltip: 'Statement timeout for every query.',
  },
  { key: 'maxRows', label: 'Max rows', tooltip: 'Rows a query may return before it fails.' },
  { key: 'maxOpenConns', label: 'Max connections', tooltip: 'Size of the connection pool.' },
  {
    key: 'cacheTTLSeconds',
    label: 'Cache TTL (s)',
    tooltip: 'How long identical query results are reused; 0 turns the cache off.',
  },
  {
    key: 'offlineAfterMinutes',
    label: 'Offline after (min)',
    tooltip: 'A router with no sample for this long is shown as offline.',
  },
];

/** ConfigEditor is the datasource settings page. */
export function ConfigEditor({ options, onOptionsChange }: ConfigEditorProps) {
  const jsonData = options.jsonData ?? {};
  const setJsonData = (patch: Partial<RLOptions>) =>
    onOptionsChange({ ...options, jsonData: { ...jsonData, ...patch } });

  const onPasswordChange = (event: ChangeEvent<HTMLInputElement>) =>
    onOptionsChange({
      ...options,
      secureJsonData: { ...options.secureJsonData, password: event.target.value },
    });
  const onPasswordReset = () =>
    onOptionsChange({
      ...options,
      secureJsonFields: { ...options.secureJsonFields, password: false },
      secureJsonData: { ...options.secureJsonData, password: '' },
    });

  return (
    <>
      <FieldSet label="Connection">
        {TEXT_FIELDS.map(({ key, label, tooltip }) => (
          <InlineField
            key={key}
            label={label}
            tooltip={tooltip}
            labelWidth={LABEL_WIDTH}
            htmlFor={`rl-${key}`}
          >
            <Input
              id={`rl-${key}`}
              width={INPUT_WIDTH}
              value={jsonData[key] ?? ''}
              placeholder={DEFAULT_OPTIONS[key]}
              onChange={(e: ChangeEvent<HTMLInputElement>) =>
                setJsonData({ [key]: e.target.value })
              }
            />
          </InlineField>
        ))}
        <InlineField label="Password" labelWidth={LABEL_WIDTH} htmlFor="rl-password">
          <SecretInput
            id="rl-password"
            width={INPUT_WIDTH}
            isConfigured={Boolean(options.secureJsonFields?.password)}
            value={options.secureJsonData?.password ?? ''}
            placeholder="Password of the login role"
            onChange={onPasswordChange}
            onReset={onPasswordReset}
          />
        </InlineField>
        <InlineField
          label="SSL mode"
          tooltip="libpq sslmode for the connection."
          labelWidth={LABEL_WIDTH}
          htmlFor="rl-sslmode"
        >
          <Select
            inputId="rl-sslmode"
            width={INPUT_WIDTH}
            options={SSL_MODES}
            value={jsonData.sslmode ?? DEFAULT_OPTIONS.sslmode}
            onChange={(v: SelectableValue<SSLMode>) => setJsonData({ sslmode: v.value })}
          />
        </InlineField>
      </FieldSet>
      <FieldSet label="Limits">
        {NUMBER_FIELDS.map(({ key, label, tooltip }) => (
          <InlineField
            key={key}
            label={label}
            tooltip={tooltip}
            labelWidth={LABEL_WIDTH}
            htmlFor={`rl-${key}`}
          >
            <Input
              id={`rl-${key}`}
              type="number"
              min={0}
              width={INPUT_WIDTH / 2}
              value={jsonData[key] ?? ''}
              placeholder={String(DEFAULT_OPTIONS[key])}
              onChange={(e: ChangeEvent<HTMLInputElement>) =>
                setJsonData({ [key]: parseNumber(e.target.value) })
              }
            />
          </InlineField>
        ))}
      </FieldSet>
    </>
  );
}
