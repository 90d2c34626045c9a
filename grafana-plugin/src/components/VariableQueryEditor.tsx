// VariableQueryEditor edits a template variable query on this datasource:
// only what the variable lists, since every variable query is a `variable` one.
import type { QueryEditorProps, SelectableValue } from '@grafana/data';
import { InlineField, Select } from '@grafana/ui';

import type { DataSource } from '../datasource';
import type { RLOptions, RLQuery, VariableKind } from '../types';
import { VARIABLE_KIND_OPTIONS } from './options';

/** VariableQueryEditorProps are the props of the variable editor. */
export type VariableQueryEditorProps = QueryEditorProps<DataSource, RLQuery, RLOptions, RLQuery>;

/** VariableQueryEditor picks the list a template variable shows. */
export function VariableQueryEditor({ query, onChange }: VariableQueryEditorProps) {
  const onKindChange = (v: SelectableValue<VariableKind>) =>
    onChange({
      ...query,
      refId: query.refId || 'variable',
      queryType: 'variable',
      variable: v.value ?? 'routers',
    });

  return (
    <InlineField
      label="Values"
      labelWidth={14}
      htmlFor="rl-variable-kind"
      tooltip="What the variable lists."
    >
      <Select<VariableKind>
        inputId="rl-variable-kind"
        width={24}
        options={VARIABLE_KIND_OPTIONS}
        value={query.variable ?? 'routers'}
        onChange={onKindChange}
      />
    </InlineField>
  );
}
