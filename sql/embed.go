// Package sqlfiles embeds the schema migrations, so that the binary carries
// the schema it expects and `routerlogger migrate` needs no files on disk.
//
// Each migration is `NNNN_name.sql`, applied on every database, optionally
// followed by `NNNN_name.plain.sql` on plain PostgreSQL or
// `NNNN_name.timescale.sql` where the TimescaleDB extension is installed.
// Both variants create relations with the same names and columns, so
// analysts, dashboards and the writer see one schema either way.
//
// Usage deltas are computed at ingest by package ingest/usage and stored
// with each sample, not derived here with window functions: continuous
// aggregates cannot use window functions, and only the writer sees a late
// sample arrive and can recompute its successor. The rollups are therefore
// plain sums of stored deltas (tables kept by the writer on PostgreSQL,
// continuous aggregates on TimescaleDB).
package sqlfiles

import "embed"

// Migrations holds the files under migrations/.
//
//go:embed migrations/*.sql
var Migrations embed.FS
