// RouterLogger fleet datasource: the frontend of a backend datasource plugin.
// Queries run in the Go backend (pkg/); this bundle gives Grafana the settings
// page, the query editor, template variable support and variable
// interpolation. Built by webpack into dist/module.js as an AMD module.
import { DataSourcePlugin } from '@grafana/data';

import { ConfigEditor } from './components/ConfigEditor';
import { QueryEditor } from './components/QueryEditor';
import { DataSource } from './datasource';
import type { RLOptions, RLQuery, RLSecureJsonData } from './types';

/** plugin is what Grafana loads from module.js. */
export const plugin = new DataSourcePlugin<DataSource, RLQuery, RLOptions, RLSecureJsonData>(
  DataSource
)
  .setConfigEditor(ConfigEditor)
  .setQueryEditor(QueryEditor);
