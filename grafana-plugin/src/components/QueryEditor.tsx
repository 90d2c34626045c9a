// QueryEditor edits one RouterLogger query: a query type picker, then the
// options QUERY_TYPES lists for that type, each drawn by OPTION_EDITORS.
import type { QueryEditorProps as GrafanaQueryEditorProps, SelectableValue } from '@grafana/data';
import {
  InlineField,
  InlineFieldRow,
  Input,
  MultiSelect,
  RadioButtonGroup,
  Select,
  TextArea,
} from '@grafana/ui';
import { useState, type ChangeEvent, type ComponentType } from 'react';

import type { DataSource } from '../datasource';
import {
  ALL_SIGNAL_METRICS,
  DEFAULT_QUERY_TYPE,
  queryTypeInfo,
  withQueryType,
  type EventKind,
  type QueryOption,
  type QueryType,
  type RLOptions,
  type RLQuery,
  type SignalMetric,
  type SyncStatus,
} from '../types';
import { parseNumber } from './numbers';
import {
  EVENT_KIND_OPTIONS,
  FORMAT_OPTIONS,
  QUERY_TYPE_OPTIONS,
  SIGNAL_METRIC_OPTIONS,
  SYNC_JOB_OPTIONS,
  SYNC_STATUS_OPTIONS,
  USAGE_METRIC_OPTIONS,
  VARIABLE_KIND_OPTIONS,
} from './options';
import { RouterPicker } from './RouterPicker';

/** QueryEditorProps are the props Grafana passes to a datasource query editor. */
export type QueryEditorProps = GrafanaQueryEditorProps<DataSource, RLQuery, RLOptions>;

/** OptionEditorProps are what each option editor gets. */
export interface OptionEditorProps {
  /** id is unique per query and option, for the label's htmlFor. */
  id: string;
  query: RLQuery;
  datasource: DataSource;
  /** update merges patch into the query; run (default true) reruns it. */
  update: (patch: Partial<RLQuery>, run?: boolean) => void;
  /** run reruns the query without changing it (for inputs, on blur). */
  run: () => void;
}

const LABEL_WIDTH = 14;

/** QueryEditor is the query editor of panels, Explore and alert rules. */
export function QueryEditor({ query, onChange, onRunQuery, datasource }: QueryEditorProps) {
  const type = query.queryType ?? DEFAULT_QUERY_TYPE;
  const info = queryTypeInfo(type);
  const update = (patch: Partial<RLQuery>, run = true) => {
    onChange({ ...query, ...patch });
    if (run) {
      onRunQuery();
    }
  };
  const onTypeChange = (v: SelectableValue<QueryType>) => {
    if (v.value && v.value !== query.queryType) {
      onChange(withQueryType(query, v.value));
      onRunQuery();
    }
  };
  const typeId = `rl-${query.refId}-queryType`;

  return (
    <>
      <InlineFieldRow>
        <InlineField
          label="Query type"
          labelWidth={LABEL_WIDTH}
          htmlFor={typeId}
          invalid={!info}
          error={info ? undefined : `Unknown query type "${type}"`}
          tooltip={info?.description}
        >
          <Select<QueryType>
            inputId={typeId}
            width={32}
            options={QUERY_TYPE_OPTIONS}
            value={type}
            onChange={onTypeChange}
          />
        </InlineField>
      </InlineFieldRow>
      {info && info.options.length > 0 && (
        <InlineFieldRow>
          {info.options.map((option) => {
            const Editor = OPTION_EDITORS[option];
            return (
              <Editor
                key={option}
                id={`rl-${query.refId}-${option}`}
                query={query}
                datasource={datasource}
                update={update}
                run={onRunQuery}
              />
            );
          })}
        </InlineFieldRow>
      )}
    </>
  );
}

function RoutersEditor({ id, query, datasource, update }: OptionEditorProps) {
  const [error, setError] = useState<string>();
  return (
    <InlineField
      label="Routers"
      labelWidth={LABEL_WIDTH}
      htmlFor={id}
      tooltip="Routers to include; none means all. Template variables such as $router are expanded."
      invalid={Boolean(error)}
      error={error}
    >
      <RouterPicker
        inputId={id}
        width={40}
        datasource={datasource}
        value={query.routers ?? []}
        onChange={(routers) => update({ routers })}
        onError={setError}
      />
    </InlineField>
  );
}

function MetricEditor({ id, query, update }: OptionEditorProps) {
  return (
    <InlineField label="Metric" labelWidth={LABEL_WIDTH} tooltip="Byte counter to use.">
      <RadioButtonGroup
        id={id}
        options={USAGE_METRIC_OPTIONS}
        value={query.metric ?? 'total'}
        onChange={(metric) => update({ metric })}
      />
    </InlineField>
  );
}

/** ListKey names the options that hold a list; an empty list means all. */
type ListKey = 'metrics' | 'events' | 'jobs' | 'statuses';

/**
 * listEditor makes the editor of a list option picked from options.
 * custom lets the user type values the options lack (job names of new
 * sync jobs); unset stands for when the query has no value yet.
 */
function listEditor<T extends string>(
  key: ListKey,
  label: string,
  tooltip: string,
  placeholder: string,
  options: Array<SelectableValue<T>>,
  { custom = false, unset = [] }: { custom?: boolean; unset?: T[] } = {}
): ComponentType<OptionEditorProps> {
  function ListEditor({ id, query, update }: OptionEditorProps) {
    const value = (query[key] as T[] | undefined) ?? unset;
    const extra = custom
      ? value
          .filter((v) => !options.some((o) => o.value === v))
          .map((v) => ({ value: v, label: v }))
      : [];
    return (
      <InlineField label={label} labelWidth={LABEL_WIDTH} htmlFor={id} tooltip={tooltip}>
        <MultiSelect<T>
          inputId={id}
          width={40}
          options={[...options, ...extra]}
          value={value}
          allowCustomValue={custom}
          placeholder={placeholder}
          onChange={(items) => update({ [key]: items.flatMap((i) => (i.value ? [i.value] : [])) })}
        />
      </InlineField>
    );
  }
  ListEditor.displayName = `ListEditor(${key})`;
  return ListEditor;
}

/** numberEditor makes the editor of one numeric option. */
function numberEditor(
  key: 'limit' | 'windowMinutes' | 'thresholdSeconds',
  label: string,
  tooltip: string,
  placeholder: number
): ComponentType<OptionEditorProps> {
  function NumberEditor({ id, query, update, run }: OptionEditorProps) {
    return (
      <InlineField label={label} labelWidth={LABEL_WIDTH} htmlFor={id} tooltip={tooltip}>
        <Input
          id={id}
          type="number"
          min={1}
          width={12}
          value={query[key] ?? ''}
          placeholder={String(placeholder)}
          onChange={(e: ChangeEvent<HTMLInputElement>) =>
            update({ [key]: parseNumber(e.target.value) }, false)
          }
          onBlur={run}
        />
      </InlineField>
    );
  }
  NumberEditor.displayName = `NumberEditor(${key})`;
  return NumberEditor;
}

const SQL_TOOLTIP =
  'Read-only SQL on the analyst views. Macros: $__timeFilter(col), ' +
  '$__timeGroup(col, $__interval), $__interval.';

function RawSqlEditor({ id, query, update, run }: OptionEditorProps) {
  return (
    <InlineField label="SQL" labelWidth={LABEL_WIDTH} htmlFor={id} grow tooltip={SQL_TOOLTIP}>
      <TextArea
        id={id}
        rows={8}
        spellCheck={false}
        style={{ fontFamily: 'monospace' }}
        value={query.rawSql ?? ''}
        onChange={(e: ChangeEvent<HTMLTextAreaElement>) =>
          update({ rawSql: e.target.value }, false)
        }
        onBlur={run}
      />
    </InlineField>
  );
}

function FormatEditor({ id, query, update }: OptionEditorProps) {
  return (
    <InlineField label="Format" labelWidth={LABEL_WIDTH} tooltip="Shape of the result frame.">
      <RadioButtonGroup
        id={id}
        options={FORMAT_OPTIONS}
        value={query.format ?? 'table'}
        onChange={(format) => update({ format })}
      />
    </InlineField>
  );
}

function VariableKindEditor({ id, query, update }: OptionEditorProps) {
  return (
    <InlineField
      label="Values"
      labelWidth={LABEL_WIDTH}
      htmlFor={id}
      tooltip="What the variable lists."
    >
      <Select
        inputId={id}
        width={24}
        options={VARIABLE_KIND_OPTIONS}
        value={query.variable ?? 'routers'}
        onChange={(v) => v.value && update({ variable: v.value })}
      />
    </InlineField>
  );
}

/** OPTION_EDITORS draws each query option; QUERY_TYPES says which a type shows. */
export const OPTION_EDITORS: Record<QueryOption, ComponentType<OptionEditorProps>> = {
  routers: RoutersEditor,
  metric: MetricEditor,
  limit: numberEditor('limit', 'Limit', 'How many routers to list.', 10),
  metrics: listEditor<SignalMetric>(
    'metrics',
    'Metrics',
    'None means all four.',
    'All metrics',
    SIGNAL_METRIC_OPTIONS,
    { unset: ALL_SIGNAL_METRICS }
  ),
  events: listEditor<EventKind>(
    'events',
    'Events',
    'None means all events.',
    'All events',
    EVENT_KIND_OPTIONS
  ),
  windowMinutes: numberEditor('windowMinutes', 'Window (min)', 'Minutes to look back.', 15),
  thresholdSeconds: numberEditor(
    'thresholdSeconds',
    'Threshold (s)',
    'Count queries running longer than this.',
    5
  ),
  jobs: listEditor<string>(
    'jobs',
    'Jobs',
    'Sync jobs to include; none means all. Type a name to add another job.',
    'All jobs',
    SYNC_JOB_OPTIONS,
    { custom: true }
  ),
  statuses: listEditor<SyncStatus>(
    'statuses',
    'Statuses',
    'Run statuses to include; none means all.',
    'All statuses',
    SYNC_STATUS_OPTIONS
  ),
  rawSql: RawSqlEditor,
  format: FormatEditor,
  variable: VariableKindEditor,
};
