// Types shared by the datasource and its editors: the query model, the
// datasource settings and QUERY_TYPES, the one table that says which options
// each query type takes. The query editor renders from that table, so a new
// query type that reuses existing options is one new entry.
import type { DataQuery, DataSourceJsonData } from '@grafana/data';

/** QueryType names a query the backend knows how to run. */
export type QueryType =
  | 'fleet_usage'
  | 'router_usage'
  | 'top_routers'
  | 'router_status'
  | 'signal'
  | 'events'
  | 'ingest_health'
  | 'sync_runs'
  | 'sync_job_health'
  | 'locks'
  | 'guest_sessions'
  | 'guest_session_summary'
  | 'guest_property_summary'
  | 'dlq_depth'
  | 'dlq_events'
  | 'portal_inbox'
  | 'oauth_state'
  | 'rms_quota'
  | 'usage_reconciliation'
  | 'alert_router_offline'
  | 'alert_fleet_silent'
  | 'alert_reject_rate'
  | 'alert_slow_queries'
  | 'alert_lock_held'
  | 'alert_sync_overdue'
  | 'alert_dlq_depth'
  | 'alert_inbox_lag'
  | 'alert_oauth_reauth'
  | 'alert_rms_quota'
  | 'raw_sql'
  | 'variable';

/** UsageMetric picks the byte counter a usage query sums. */
export type UsageMetric = 'total' | 'tx' | 'rx';

/** SignalMetric is one radio measurement of the signal query. */
export type SignalMetric = 'rsrp' | 'rsrq' | 'sinr' | 'rssi';

/** EventKind is one event tag of the router_events view. */
export type EventKind = 'reboot' | 'glitch' | 'gap' | 'late' | 'reset' | 'wrap';

/** SyncStatus is the status of a sync run. */
export type SyncStatus = 'ok' | 'partial' | 'failed' | 'skipped' | 'running';

/** RawFormat is the frame shape a raw_sql query returns. */
export type RawFormat = 'time_series' | 'table';

/** VariableKind is what a `variable` query lists. */
export type VariableKind = 'routers' | 'properties';

/** SSLMode is a libpq sslmode the backend accepts. */
export type SSLMode = 'disable' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';

/**
 * RLQuery is one panel or alert query: a queryType and that type's options,
 * named as in the plugin contract.
 */
export interface RLQuery extends DataQuery {
  queryType?: QueryType;
  /** Router serials; empty or ["$__all"] means all routers. */
  routers?: string[];
  metric?: UsageMetric;
  limit?: number;
  metrics?: SignalMetric[];
  events?: EventKind[];
  windowMinutes?: number;
  thresholdSeconds?: number;
  /** Sync job names, such as rms; empty means every job. */
  jobs?: string[];
  /** Sync run statuses; empty means all. */
  statuses?: SyncStatus[];
  rawSql?: string;
  format?: RawFormat;
  variable?: VariableKind;
}

/** RLOptions is the datasource's jsonData. */
export interface RLOptions extends DataSourceJsonData {
  host?: string;
  database?: string;
  user?: string;
  sslmode?: SSLMode;
  queryTimeoutSeconds?: number;
  maxRows?: number;
  maxOpenConns?: number;
  cacheTTLSeconds?: number;
  offlineAfterMinutes?: number;
}

/** RLSecureJsonData is the datasource's encrypted settings. */
export interface RLSecureJsonData {
  password?: string;
}

/** DEFAULT_OPTIONS holds the values the backend uses for unset settings. */
export const DEFAULT_OPTIONS: Required<Omit<RLOptions, keyof DataSourceJsonData>> = {
  host: '127.0.0.1:5432',
  database: 'routerlogger',
  user: 'routerlogger_grafana',
  sslmode: 'disable',
  queryTimeoutSeconds: 10,
  maxRows: 10000,
  maxOpenConns: 10,
  cacheTTLSeconds: 10,
  offlineAfterMinutes: 30,
};

/** QueryOption names an option of RLQuery that the editor can show. */
export type QueryOption =
  | 'routers'
  | 'metric'
  | 'limit'
  | 'metrics'
  | 'events'
  | 'windowMinutes'
  | 'thresholdSeconds'
  | 'jobs'
  | 'statuses'
  | 'rawSql'
  | 'format'
  | 'variable';

/** QueryTypeInfo describes one query type for the editor. */
export interface QueryTypeInfo {
  value: QueryType;
  label: string;
  description: string;
  /** Options the type uses, in the order the editor shows them. */
  options: QueryOption[];
  /** Values a new query of this type starts with. */
  defaults: Partial<RLQuery>;
}

/** ALL_SIGNAL_METRICS lists every signal metric, the signal query's default. */
export const ALL_SIGNAL_METRICS: SignalMetric[] = ['rsrp', 'rsrq', 'sinr', 'rssi'];

/** ALL_EVENT_KINDS lists every event kind the backend reports. */
export const ALL_EVENT_KINDS: EventKind[] = ['reboot', 'glitch', 'gap', 'late', 'reset', 'wrap'];

/** DEFAULT_RAW_SQL is the statement a new raw_sql query starts with. */
export const DEFAULT_RAW_SQL =
  'SELECT $__timeGroup(bucket, $__interval) AS time, sum(total_bytes) AS total_bytes\n' +
  'FROM router_usage_hourly\nWHERE $__timeFilter(bucket)\nGROUP BY 1\nORDER BY 1';

/** QUERY_TYPES is the table of query types, in the order the picker lists them. */
export const QUERY_TYPES: QueryTypeInfo[] = [
  {
    value: 'fleet_usage',
    label: 'Fleet usage',
    description: 'Bytes sent and received by the whole fleet over time, from the rollups.',
    options: [],
    defaults: {},
  },
  {
    value: 'router_usage',
    label: 'Router usage',
    description: 'Bytes over time, one series per router.',
    options: ['routers', 'metric'],
    defaults: { routers: [], metric: 'total' },
  },
  {
    value: 'top_routers',
    label: 'Top routers',
    description: 'Routers with the most traffic over the time range, as a table.',
    options: ['limit', 'metric'],
    defaults: { limit: 10, metric: 'total' },
  },
  {
    value: 'router_status',
    label: 'Router status',
    description: 'Latest state of each router: firmware, operator, signal and online flag.',
    options: ['routers'],
    defaults: { routers: [] },
  },
  {
    value: 'signal',
    label: 'Signal',
    description: 'RSRP, RSRQ, SINR and RSSI over time, averaged per interval, per router.',
    options: ['routers', 'metrics'],
    defaults: { routers: [], metrics: [...ALL_SIGNAL_METRICS] },
  },
  {
    value: 'events',
    label: 'Events',
    description: 'Reboots, counter glitches, gaps and other events; usable for annotations.',
    options: ['routers', 'events'],
    defaults: { routers: [], events: [] },
  },
  {
    value: 'ingest_health',
    label: 'Ingest health',
    description: 'Accepted, duplicate and rejected samples per interval, and the reject rate.',
    options: [],
    defaults: {},
  },
  {
    value: 'sync_runs',
    label: 'Sync runs',
    description: 'Runs of the sync jobs over the time range, newest first, with counts and errors.',
    options: ['jobs', 'statuses'],
    defaults: { jobs: [], statuses: [] },
  },
  {
    value: 'sync_job_health',
    label: 'Sync job health',
    description: 'Each sync job: last run, last success, back-off, overdue, and runs by status.',
    options: ['jobs'],
    defaults: { jobs: [] },
  },
  {
    value: 'locks',
    label: 'Locks',
    description: 'Held job locks, their holders and how long they have been held.',
    options: [],
    defaults: {},
  },
  {
    value: 'guest_sessions',
    label: 'Guest sessions',
    description: 'Guest Wi-Fi sessions started per interval, one series per router.',
    options: ['routers'],
    defaults: { routers: [] },
  },
  {
    value: 'guest_session_summary',
    label: 'Guest sessions per router',
    description: 'Sessions started in the range, active now, and their durations, per router.',
    options: ['routers'],
    defaults: { routers: [] },
  },
  {
    value: 'guest_property_summary',
    label: 'Guest sessions per property',
    description: 'Sessions started in the range, active now, and their durations, per property.',
    options: ['routers'],
    defaults: { routers: [] },
  },
  {
    value: 'dlq_depth',
    label: 'Dead-letter queue depth',
    description: 'Captive-portal events in the dead-letter queue, and the oldest failure.',
    options: [],
    defaults: {},
  },
  {
    value: 'dlq_events',
    label: 'Dead-letter queue',
    description: 'The captive-portal events in the dead-letter queue, latest failure first.',
    options: [],
    defaults: {},
  },
  {
    value: 'portal_inbox',
    label: 'Portal inbox',
    description: 'Captive-portal events waiting for their job, and the age of the oldest.',
    options: [],
    defaults: {},
  },
  {
    value: 'oauth_state',
    label: 'OAuth state',
    description: 'Authorisation of each outside service: ok or needs_reauth, expiry, last error.',
    options: [],
    defaults: {},
  },
  {
    value: 'rms_quota',
    label: 'RMS quota',
    description: 'RMS API requests per month against the quota, and the share used.',
    options: [],
    defaults: {},
  },
  {
    value: 'usage_reconciliation',
    label: 'Usage reconciliation',
    description: "RMS's daily usage beside RouterLogger's, per router and day.",
    options: ['routers'],
    defaults: { routers: [] },
  },
  {
    value: 'alert_router_offline',
    label: 'Alert: router offline',
    description: 'Minutes since the last sample, one row per router.',
    options: [],
    defaults: {},
  },
  {
    value: 'alert_fleet_silent',
    label: 'Alert: fleet silent',
    description: 'Minutes since the newest sample of any router.',
    options: [],
    defaults: {},
  },
  {
    value: 'alert_reject_rate',
    label: 'Alert: reject rate',
    description: 'Share of rejected samples over the last window.',
    options: ['windowMinutes'],
    defaults: { windowMinutes: 15 },
  },
  {
    value: 'alert_slow_queries',
    label: 'Alert: slow queries',
    description: 'Number of database queries running longer than the threshold.',
    options: ['thresholdSeconds'],
    defaults: { thresholdSeconds: 5 },
  },
  {
    value: 'alert_lock_held',
    label: 'Alert: lock held',
    description: 'Minutes each held lock has been held, one row per lock.',
    options: [],
    defaults: {},
  },
  {
    value: 'alert_sync_overdue',
    label: 'Alert: sync job overdue',
    description: '1 for each sync job with no ok run within twice its interval, else 0.',
    options: [],
    defaults: {},
  },
  {
    value: 'alert_dlq_depth',
    label: 'Alert: dead-letter queue depth',
    description: 'Number of captive-portal events in the dead-letter queue.',
    options: [],
    defaults: {},
  },
  {
    value: 'alert_inbox_lag',
    label: 'Alert: portal inbox lag',
    description: 'Minutes since the oldest captive-portal event still waiting arrived.',
    options: [],
    defaults: {},
  },
  {
    value: 'alert_oauth_reauth',
    label: 'Alert: OAuth needs re-authorisation',
    description: '1 for each outside service an operator must authorise again, else 0.',
    options: [],
    defaults: {},
  },
  {
    value: 'alert_rms_quota',
    label: 'Alert: RMS quota',
    description: "Share of this month's RMS API request quota used.",
    options: [],
    defaults: {},
  },
  {
    value: 'raw_sql',
    label: 'Raw SQL',
    description: 'A read-only SQL statement on the analyst views, with time macros.',
    options: ['rawSql', 'format'],
    defaults: { rawSql: DEFAULT_RAW_SQL, format: 'time_series' },
  },
  {
    value: 'variable',
    label: 'Variable values',
    description: 'Values for a template variable: routers or properties.',
    options: ['variable'],
    defaults: { variable: 'routers' },
  },
];

/** DEFAULT_QUERY_TYPE is the query type of a new query. */
export const DEFAULT_QUERY_TYPE: QueryType = 'fleet_usage';

/** queryTypeInfo returns the table entry for a query type, or undefined for an unknown one. */
export function queryTypeInfo(type: string | undefined): QueryTypeInfo | undefined {
  return QUERY_TYPES.find((info) => info.value === type);
}

/** ALL_QUERY_OPTIONS lists every option key of RLQuery that some query type uses. */
export const ALL_QUERY_OPTIONS: QueryOption[] = [
  'routers',
  'metric',
  'limit',
  'metrics',
  'events',
  'windowMinutes',
  'thresholdSeconds',
  'jobs',
  'statuses',
  'rawSql',
  'format',
  'variable',
];

/**
 * withQueryType returns query switched to type: the options the new type does
 * not use are dropped, the ones it shares with the old type are kept, and the
 * rest take the new type's defaults.
 */
export function withQueryType(query: RLQuery, type: QueryType): RLQuery {
  const info = queryTypeInfo(type);
  const next: RLQuery = { ...query, queryType: type };
  for (const option of ALL_QUERY_OPTIONS) {
    delete next[option];
  }

  const keep: Partial<RLQuery> = {};
  for (const option of info?.options ?? []) {
    if (query[option] !== undefined) {
      Object.assign(keep, { [option]: query[option] });
    }
  }
  return { ...next, ...copyDefaults(info?.defaults ?? {}), ...keep };
}

// copyDefaults copies the defaults so that editing a query never
// mutates the arrays held by QUERY_TYPES.
function copyDefaults(defaults: Partial<RLQuery>): Partial<RLQuery> {
  const copy: Partial<RLQuery> = { ...defaults };
  for (const [key, value] of Object.entries(copy)) {
    if (Array.isArray(value)) {
      Object.assign(copy, { [key]: [...value] });
    }
  }
  return copy;
}
