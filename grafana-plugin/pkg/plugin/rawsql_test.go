package plugin_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/jackc/pgx/v5"
)

// rawQuery is a raw_sql query of sql over the fixture day.
func rawQuery(sql, format string) backend.DataQuery {
	opts, _ := json.Marshal(map[string]string{"rawSql": sql, "format": format})
	return dataQuery("A", "raw_sql", string(opts), time.Hour)
}

// TestDatasource_RawSQL_Denied checks that raw SQL reads only the granted
// views, cannot write or run more than one statement, and that each
// refusal is a per-query error saying why.
func TestDatasource_RawSQL_Denied(t *testing.T) {
	t.Parallel()
	dsn := fixtureDB(t)
	ds := newDatasource(t, dsn, nil)
	cases := []struct {
		name, sql string
		status    backend.Status
		want      string
	}{
		{"raw samples", "SELECT * FROM samples", backend.StatusForbidden,
			"permission denied for table samples: queries run as routerlogger_reader"},
		{"tokens", "SELECT hash FROM api_tokens", backend.StatusForbidden, "permission denied for table api_tokens"},
		{"rollup table", "SELECT * FROM usage_hourly", backend.StatusForbidden, "permission denied"},
		{"insert", "INSERT INTO routers (serial) VALUES ('x')", backend.StatusBadRequest,
			"raw SQL must be one SELECT"},
		{"data-modifying CTE", "WITH d AS (DELETE FROM routers RETURNING 1) SELECT * FROM d",
			backend.StatusBadRequest, "data-modifying statements"},
		{"two statements", "SELECT 1; DELETE FROM routers", backend.StatusBadRequest,
			"cannot insert multiple commands"},
		{"side door function", "SELECT routers_add_status()", backend.StatusForbidden,
			"permission denied for function"},
		{"write through a function", "SELECT nextval('routers_id_seq')", backend.StatusForbidden, "permission denied"},
		{"syntax error points into the query", "SELECT serial FROM router_latest WHERE", backend.StatusBadRequest,
			"syntax error at end of input (at character 39)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runQuery(t, ds, rawQuery(c.sql, "table"))
			if r.Error == nil || !strings.Contains(r.Error.Error(), c.want) {
				t.Fatalf("error %v, want it to contain %q", r.Error, c.want)
			}
			if r.Status != c.status {
				t.Errorf("status %d, want %d", r.Status, c.status)
			}
		})
	}

	var n int
	conn := adminConn(t, dsn)
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM routers").Scan(&n); err != nil || n != 3 {
		t.Errorf("routers after the attempts: %d (%v), want the fixture's 3", n, err)
	}
}

// TestDatasource_RawSQL_Timeout checks that a slow query stops at the
// statement timeout with a clear per-query error.
func TestDatasource_RawSQL_Timeout(t *testing.T) {
	t.Parallel()
	ds := newDatasource(t, fixtureDB(t), map[string]any{"queryTimeoutSeconds": 1})

	start := time.Now()
	r := runQuery(t, ds, rawQuery("SELECT pg_sleep(30)", "table"))
	took := time.Since(start)

	want := "raw_sql query: stopped after 1 s, the datasource's query timeout (queryTimeoutSeconds)"
	if r.Error == nil || !strings.HasPrefix(r.Error.Error(), want) {
		t.Fatalf("error %v, want it to start %q", r.Error, want)
	}
	if r.Status != backend.StatusTimeout {
		t.Errorf("status %d, want %d", r.Status, backend.StatusTimeout)
	}
	if took > 5*time.Second {
		t.Errorf("took %s, want about 1 s", took)
	}
}

// TestDatasource_RawSQL_Limits checks the row limit and that a session
// advisory lock taken by raw SQL does not outlive the query.
func TestDatasource_RawSQL_Limits(t *testing.T) {
	t.Parallel()
	dsn := fixtureDB(t)
	ds := newDatasource(t, dsn, map[string]any{"maxRows": 5, "maxOpenConns": 1})

	t.Run("row limit", func(t *testing.T) {
		r := runQuery(t, ds, rawQuery("SELECT g FROM generate_series(1, 1000000) g", "table"))
		if r.Error != nil {
			t.Fatal(r.Error)
		}
		f := r.Frames[0]
		if f.Rows() != 5 || f.Meta == nil || len(f.Meta.Notices) != 1 ||
			!strings.Contains(f.Meta.Notices[0].Text, "only the first 5 rows") {
			t.Errorf("%d rows, meta %+v; want 5 and a notice", f.Rows(), f.Meta)
		}
	})

	t.Run("advisory lock released", func(t *testing.T) {
		r := runQuery(t, ds, rawQuery("SELECT pg_advisory_lock(4242)", "table"))
		if r.Error != nil {
			t.Fatal(r.Error)
		}
		var held int
		const q = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242"
		if err := adminConn(t, dsn).QueryRow(context.Background(), q).Scan(&held); err != nil {
			t.Fatal(err)
		}
		if held != 0 {
			t.Errorf("%d advisory locks still held after the query", held)
		}
	})

	t.Run("time_series needs a time column", func(t *testing.T) {
		r := runQuery(t, ds, rawQuery("SELECT 1 AS x", "time_series"))
		if r.Error == nil || !strings.Contains(r.Error.Error(), "format time_series needs a time column") {
			t.Errorf("error %v", r.Error)
		}
	})
}

// TestDatasource_RawSQL_Types checks how column types become fields.
func TestDatasource_RawSQL_Types(t *testing.T) {
	t.Parallel()
	ds := newDatasource(t, fixtureDB(t), nil)
	const sql = `SELECT true AS b, 7::int2 AS i2, 8::int8 AS i8, 1.5::real AS f4, 2.25::numeric AS n,
		'2025-03-14T10:00:00Z'::timestamptz AS ts, '10.0.0.1'::inet AS ip, ARRAY['a','b'] AS arr,
		NULL::text AS none, '1 day'::interval AS iv, $__timeFrom() AS from_, $__interval_ms AS ms`
	r := runQuery(t, ds, rawQuery(sql, "table"))
	if r.Error != nil {
		t.Fatal(r.Error)
	}
	want := map[string]string{
		"b": "true", "i2": "7", "i8": "8", "f4": "1.5", "n": "2.25", "ts": "2025-03-14 10:00:00 +0000 UTC",
		"ip": "10.0.0.1", "arr": `["a","b"]`, "none": "<nil>", "iv": "1 day 00:00:00",
		"from_": "2025-03-14 00:00:00 +0000 UTC",
		"ms":    "3600000",
	}
	for _, f := range r.Frames[0].Fields {
		got := "<nil>"
		if v, ok := f.ConcreteAt(0); ok {
			got = strings.TrimSpace(strings.ReplaceAll(fmtAny(v), "\n", " "))
		}
		if got != want[f.Name] {
			t.Errorf("column %s: %s (%s), want %s", f.Name, got, f.Type(), want[f.Name])
		}
	}
}

// adminConn connects to dsn as the test server's admin for checks.
func adminConn(t testing.TB, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}
