package plugin_test

import (
	"context"
	"encoding/json"
	"net"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/routerlogger/routerlogger/grafana-plugin/pkg/plugin"
	"github.com/routerlogger/routerlogger/internal/db"
	"github.com/routerlogger/routerlogger/internal/pgtest"
)

// checkHealth runs the health check, which must not fail as a call.
func checkHealth(t testing.TB, ds backend.CheckHealthHandler) *backend.CheckHealthResult {
	t.Helper()
	res, err := ds.CheckHealth(context.Background(), &backend.CheckHealthRequest{})
	if err != nil {
		t.Fatalf("CheckHealth returned an error instead of a status: %v", err)
	}
	return res
}

// TestDatasource_CheckHealth checks the health messages for a good setup
// and for each thing a person can get wrong.
func TestDatasource_CheckHealth(t *testing.T) {
	t.Parallel()
	dsn := fixtureDB(t)
	u, _ := url.Parse(dsn)

	member, memberPW := loginRole(t, dsn, true)
	outsider, outsiderPW := loginRole(t, dsn, false)
	unmigrated := pgtest.NewDatabase(t)

	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	_ = closed.Close()

	cases := []struct {
		name     string
		settings backend.DataSourceInstanceSettings
		status   backend.HealthStatus
		want     string
	}{
		{"ok", instanceSettings(t, dsn, member, memberPW, nil), backend.HealthStatusOk,
			"connected to " + u.Host + u.Path + " as " + member + " (member of routerlogger_reader); " +
				"schema version " + itoa(latestSchema(t)) + " (plain PostgreSQL, TimescaleDB not installed)"},
		{"not a member", instanceSettings(t, dsn, outsider, outsiderPW, nil), backend.HealthStatusError,
			outsider + " is not a member of routerlogger_reader: run GRANT routerlogger_reader TO " + outsider},
		{"superuser", instanceSettings(t, dsn, "postgres", "", nil), backend.HealthStatusError,
			"postgres is a superuser; connect as a role that is only a member of routerlogger_reader"},
		{"no such role", instanceSettings(t, dsn, "rlt_nobody", "x", nil), backend.HealthStatusError,
			"cannot connect to " + u.Host + " as rlt_nobody: role \"rlt_nobody\" does not exist — check the user"},
		{"no such database", instanceSettings(t, dsn, member, memberPW, map[string]any{"database": "rlt_missing"}),
			backend.HealthStatusError,
			"as " + member + ": database rlt_missing does not exist — check the database name"},
		{"nothing listening", instanceSettings(t, dsn, member, memberPW, map[string]any{"host": closedAddr}),
			backend.HealthStatusError, "cannot connect to " + closedAddr + " as " + member +
				": connection refused — is PostgreSQL running and listening on that address?"},
		{"not migrated", instanceSettings(t, unmigrated, member, memberPW, nil), backend.HealthStatusError,
			"has no routerlogger_schema_info(): its schema is older than version " + strconv.Itoa(plugin.MinSchemaVersion)},
		{"bad settings", backend.DataSourceInstanceSettings{JSONData: []byte(`{"sslmode": "sometimes"}`)},
			backend.HealthStatusError, `datasource settings: sslmode "sometimes": want one of disable`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := checkHealth(t, openDatasource(t, c.settings))
			if res.Status != c.status || !strings.Contains(res.Message, c.want) {
				t.Errorf("status %s message %q, want %s containing %q", res.Status, res.Message, c.status, c.want)
			}
		})
	}
}

// latestSchema is the newest embedded migration.
func latestSchema(t testing.TB) int {
	t.Helper()
	migs, err := db.Migrations()
	if err != nil || len(migs) == 0 || migs[len(migs)-1].Version < plugin.MinSchemaVersion {
		t.Fatalf("migrations: %v (%d)", err, len(migs))
	}
	return migs[len(migs)-1].Version
}

// TestDatasource_CheckHealth_Details checks the JSON details of a good
// check.
func TestDatasource_CheckHealth_Details(t *testing.T) {
	t.Parallel()
	ds := newDatasource(t, fixtureDB(t), nil)
	res := checkHealth(t, ds)

	var h plugin.Health
	if err := json.Unmarshal(res.JSONDetails, &h); err != nil {
		t.Fatalf("details %s: %v", res.JSONDetails, err)
	}
	if !h.Connected || !h.ReaderMember || h.Superuser || h.SchemaVersion != latestSchema(t) ||
		h.Mode != "plain" || h.Timescale {
		t.Errorf("details %+v", h)
	}
}
