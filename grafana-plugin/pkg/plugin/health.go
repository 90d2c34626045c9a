package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// MinSchemaVersion is the schema the plugin needs: 0004 adds the views
// and functions it reads, 0006 the fleet rollup behind fleet_usage_hourly.
const MinSchemaVersion = 6

// healthTimeout bounds the whole health check.
const healthTimeout = 15 * time.Second

// Health is what the health check found, sent as its JSON details.
type Health struct {
	Host          string `json:"host"`
	Database      string `json:"database"`
	User          string `json:"user"`
	Connected     bool   `json:"connected"`
	Superuser     bool   `json:"superuser"`
	ReaderMember  bool   `json:"readerMember"`
	SchemaVersion int    `json:"schemaVersion"`
	Mode          string `json:"mode,omitempty"`
	Timescale     bool   `json:"timescaledb"`
	TimescaleVer  string `json:"timescaledbVersion,omitempty"`
}

// schemaInfo is a row of routerlogger_schema_info().
type schemaInfo struct {
	Version          int
	Mode             string
	Timescale        bool
	TimescaleVersion string
}

// CheckHealth connects, checks that the login role is a member of the
// reader role and not a superuser, and reads the schema version and
// whether TimescaleDB is installed. It reports what is wrong and what to
// do as its message; it returns an error only when Grafana sent no
// request.
func (d *Datasource) CheckHealth(ctx context.Context,
	req *backend.CheckHealthRequest) (*backend.CheckHealthResult, error) {
	if req == nil {
		return nil, errors.New("check health: no request")
	}
	if d.settingsErr != nil {
		return healthResult(backend.HealthStatusError, d.settingsErr.Error(), nil), nil
	}

	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	h := &Health{Host: d.settings.Host, Database: d.settings.Database, User: d.settings.User}
	if msg := d.checkHealth(ctx, h); msg != "" {
		return healthResult(backend.HealthStatusError, msg, h), nil
	}

	storage := "plain PostgreSQL, TimescaleDB not installed"
	if h.Timescale {
		storage = "TimescaleDB " + h.TimescaleVer
	}
	msg := fmt.Sprintf("connected to %s/%s as %s (member of %s); schema version %d (%s)",
		h.Host, h.Database, h.User, ReaderRole, h.SchemaVersion, storage)
	return healthResult(backend.HealthStatusOk, msg, h), nil
}

// checkHealth fills h and returns what is wrong, or "".
func (d *Datasource) checkHealth(ctx context.Context, h *Health) string {
	var reader *bool
	const roleSQL = `SELECT r.rolsuper,
		CASE WHEN EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)
			THEN pg_has_role(current_user, $1, 'MEMBER') END
		FROM pg_roles r WHERE r.rolname = current_user`
	if err := d.pool.QueryRow(ctx, roleSQL, ReaderRole).Scan(&h.Superuser, &reader); err != nil {
		if connectFailed(err) {
			return d.connectMessage(err)
		}
		return fmt.Sprintf("cannot check the login role %s on %s: %v", h.User, h.Host, err)
	}
	h.Connected = true
	switch {
	case reader == nil:
		return fmt.Sprintf("role %s does not exist on the server: run routerlogger migrate on "+
			"database %s", ReaderRole, h.Database)
	case h.Superuser:
		return fmt.Sprintf("%s is a superuser; connect as a role that is only a member of %s "+
			"(CREATE ROLE routerlogger_grafana LOGIN PASSWORD '...' IN ROLE %s)",
			h.User, ReaderRole, ReaderRole)
	case !*reader:
		return fmt.Sprintf("%s is not a member of %s: run GRANT %s TO %s", h.User, ReaderRole,
			ReaderRole, h.User)
	}
	h.ReaderMember = true

	info, err := d.schemaInfo(ctx)
	if err != nil {
		return schemaMessage(err, h.Database)
	}
	h.SchemaVersion, h.Mode, h.Timescale, h.TimescaleVer = info.Version, info.Mode, info.Timescale,
		info.TimescaleVersion
	if info.Version < MinSchemaVersion {
		return fmt.Sprintf("schema version %d, the plugin needs %d or later: run routerlogger migrate",
			info.Version, MinSchemaVersion)
	}
	return ""
}

// schemaInfo reads routerlogger_schema_info() as the reader role.
func (d *Datasource) schemaInfo(ctx context.Context) (schemaInfo, error) {
	const sql = `SELECT coalesce(version, 0), coalesce(mode, ''), timescaledb,
		coalesce(timescaledb_version, '') FROM routerlogger_schema_info()`
	var info schemaInfo
	err := d.readOnly(ctx, func(ctx context.Context, c *pgx.Conn) error {
		return c.QueryRow(ctx, sql).Scan(&info.Version, &info.Mode, &info.Timescale,
			&info.TimescaleVersion)
	})
	return info, err
}

// schemaMessage says why the schema could not be read.
func schemaMessage(err error, database string) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42883" { // undefined_function
		return fmt.Sprintf("database %s has no routerlogger_schema_info(): its schema is older than "+
			"version %d or it is not a RouterLogger database; run routerlogger migrate",
			database, MinSchemaVersion)
	}
	return "connected, but cannot read the schema version: " + err.Error()
}

// healthResult builds the result with the details as JSON.
func healthResult(status backend.HealthStatus, msg string, h *Health) *backend.CheckHealthResult {
	res := &backend.CheckHealthResult{Status: status, Message: msg}
	if h != nil {
		res.JSONDetails, _ = json.Marshal(h)
	}
	return res
}
