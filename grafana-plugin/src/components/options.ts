// Choices offered by the editors' selects and radio groups.
import type { SelectableValue } from '@grafana/data';

import {
  QUERY_TYPES,
  type EventKind,
  type QueryType,
  type RawFormat,
  type SignalMetric,
  type SyncStatus,
  type UsageMetric,
  type VariableKind,
} from '../types';

/** QUERY_TYPE_OPTIONS is the query type picker, built from QUERY_TYPES. */
export const QUERY_TYPE_OPTIONS: Array<SelectableValue<QueryType>> = QUERY_TYPES.map((info) => ({
  value: info.value,
  label: info.label,
  description: info.description,
}));

/** USAGE_METRIC_OPTIONS are the byte counters a usage query can sum. */
export const USAGE_METRIC_OPTIONS: Array<SelectableValue<UsageMetric>> = [
  { value: 'total', label: 'Total' },
  { value: 'tx', label: 'TX' },
  { value: 'rx', label: 'RX' },
];

/** SIGNAL_METRIC_OPTIONS are the radio measurements of the signal query. */
export const SIGNAL_METRIC_OPTIONS: Array<SelectableValue<SignalMetric>> = [
  { value: 'rsrp', label: 'RSRP', description: 'Reference signal received power (dBm)' },
  { value: 'rsrq', label: 'RSRQ', description: 'Reference signal received quality (dB)' },
  { value: 'sinr', label: 'SINR', description: 'Signal to interference and noise ratio (dB)' },
  { value: 'rssi', label: 'RSSI', description: 'Received signal strength (dBm)' },
];

/** EVENT_KIND_OPTIONS are the event tags the events query can filter on. */
export const EVENT_KIND_OPTIONS: Array<SelectableValue<EventKind>> = [
  { value: 'reboot', label: 'Reboot', description: 'Router rebooted' },
  { value: 'glitch', label: 'Glitch', description: 'Counter jump held as suspect' },
  { value: 'gap', label: 'Gap', description: 'Readings too far apart' },
  { value: 'late', label: 'Late', description: 'Arrived after a newer reading' },
  { value: 'reset', label: 'Reset', description: 'Counters reset without a reboot' },
  { value: 'wrap', label: 'Wrap', description: 'Counter wrapped past its maximum' },
];

/** FORMAT_OPTIONS are the frame shapes of a raw SQL query. */
export const FORMAT_OPTIONS: Array<SelectableValue<RawFormat>> = [
  { value: 'time_series', label: 'Time series' },
  { value: 'table', label: 'Table' },
];

/** VARIABLE_KIND_OPTIONS are the lists a variable query can return. */
export const VARIABLE_KIND_OPTIONS: Array<SelectableValue<VariableKind>> = [
  { value: 'routers', label: 'Routers', description: 'Router serials, named by router name' },
  { value: 'properties', label: 'Properties', description: 'Sites the routers belong to' },
];

/** SYNC_JOB_OPTIONS are the sync jobs RouterLogger ships; others can be typed in. */
export const SYNC_JOB_OPTIONS: Array<SelectableValue<string>> = [
  { value: 'rms', label: 'rms', description: 'Teltonika RMS devices and usage' },
  { value: 'clickup', label: 'clickup', description: 'ClickUp properties and routers' },
  { value: 'geo', label: 'geo', description: 'Router locations' },
];

/** SYNC_STATUS_OPTIONS are the statuses of a sync run. */
export const SYNC_STATUS_OPTIONS: Array<SelectableValue<SyncStatus>> = [
  { value: 'ok', label: 'OK', description: 'Ran to the end' },
  { value: 'partial', label: 'Partial', description: 'Stopped early or with failed items' },
  { value: 'failed', label: 'Failed', description: 'The whole run failed' },
  { value: 'skipped', label: 'Skipped', description: 'Did not run (not configured, locked)' },
  { value: 'running', label: 'Running', description: 'Still going, or its process died' },
];
