// RouterPicker is the multi-select of routers, filled from the backend's
// `routers` resource and the dashboard's template variables.
import type { SelectableValue } from '@grafana/data';
import { getTemplateSrv } from '@grafana/runtime';
import { MultiSelect } from '@grafana/ui';
import { useEffect, useMemo, useState } from 'react';

import type { DataSource, RouterInfo } from '../datasource';

/** RouterPickerProps configure a RouterPicker. */
export interface RouterPickerProps {
  inputId: string;
  datasource: DataSource;
  value: string[];
  onChange: (serials: string[]) => void;
  /** onError receives the message when the router list cannot be loaded. */
  onError?: (message: string | undefined) => void;
  width?: number;
}

/** RouterPicker lets the user pick router serials or template variables. */
export function RouterPicker({
  inputId,
  datasource,
  value,
  onChange,
  onError,
  width,
}: RouterPickerProps) {
  const { routers, loading } = useRouters(datasource, onError);
  const options = useMemo(() => routerOptions(routers, value), [routers, value]);

  return (
    <MultiSelect<string>
      inputId={inputId}
      width={width}
      options={options}
      value={value}
      isLoading={loading}
      allowCustomValue
      placeholder="All routers"
      onChange={(items: Array<SelectableValue<string>>) =>
        onChange(items.flatMap((item) => (item.value ? [item.value] : [])))
      }
    />
  );
}

function useRouters(datasource: DataSource, onError?: (message: string | undefined) => void) {
  const [routers, setRouters] = useState<RouterInfo[]>([]);
  const [loading, setLoading] = useState(true);

  useEffect(() => {
    let live = true;
    datasource
      .getRouters()
      .then((list) => {
        if (live) {
          setRouters(list);
          onError?.(undefined);
        }
      })
      .catch((err: unknown) => live && onError?.(`Cannot load routers: ${errorMessage(err)}`))
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
    // Only a new datasource reloads the list: onError is a callback prop
    // whose identity changes on every render.
  }, [datasource]);

  return { routers, loading };
}

/**
 * routerOptions lists template variables first, then the known routers, then
 * any selected value that is neither (a serial typed in by hand).
 */
export function routerOptions(
  routers: RouterInfo[],
  selected: string[]
): Array<SelectableValue<string>> {
  const variables = getTemplateSrv()
    .getVariables()
    .map((v) => ({ value: `$${v.name}`, label: `$${v.name}`, description: 'Template variable' }));
  const known = routers.map((r) => ({
    value: r.serial,
    label: r.name,
    description: r.name === r.serial ? undefined : r.serial,
  }));

  const listed = new Set([...variables, ...known].map((o) => o.value));
  const custom = selected.filter((s) => !listed.has(s)).map((s) => ({ value: s, label: s }));
  return [...variables, ...known, ...custom];
}

function errorMessage(err: unknown): string {
  if (err instanceof Error) {
    return err.message;
  }
  if (typeof err === 'object' && err !== null) {
    // A FetchError: the backend answers {"error": "..."}, Grafana {"message": "..."}.
    const e = err as {
      data?: { error?: string; message?: string };
      statusText?: string;
      status?: number;
    };
    return e.data?.error ?? e.data?.message ?? e.statusText ?? `status ${e.status ?? 'unknown'}`;
  }
  return String(err);
}
