package plugin_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/routerlogger/routerlogger/grafana-plugin/pkg/plugin"
	"github.com/routerlogger/routerlogger/ingest/reading"
	"github.com/routerlogger/routerlogger/ingest/writer"
	"github.com/routerlogger/routerlogger/internal/db"
	"github.com/routerlogger/routerlogger/internal/pgtest"
	"github.com/routerlogger/routerlogger/internal/testkit"
)

// update rewrites the golden files: go test ./grafana-plugin/pkg/plugin -update
var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// fixtures is the shared fixture folder, from this package's folder.
var fixtures = filepath.Join("..", "..", "..", "..", "shared", "fixtures")

// The fixture day and the clock the tests run at: just after it.
var (
	dayStart = time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC)
	dayEnd   = dayStart.Add(24 * time.Hour)
	testNow  = dayEnd
)

// lateDuplicates is when the loader re-sends the last readings (they are
// duplicates) and stores one reject, so ingest_health has some of each.
var lateDuplicates = time.Date(2025, 3, 14, 23, 58, 0, 0, time.UTC)

// fixtureDB returns the DSN of a fresh migrated plain database holding the
// fixture day, loaded through the real writer.
func fixtureDB(t testing.TB) string {
	t.Helper()
	dsn := pgtest.NewDatabase(t)
	loadFixture(t, dsn, db.TimescaleOff)
	return dsn
}

// loadFixture migrates the database at dsn and loads the fixture day: the
// readings in arrival order, each slot of five minutes one batch received
// just after its newest reading, then the day's last three readings again
// and one reject at 23:58.
func loadFixture(t testing.TB, dsn, timescale string) {
	t.Helper()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := db.Migrate(ctx, pool, slog.New(slog.DiscardHandler), timescale); err != nil {
		t.Fatalf("migrate: %v", err)
	}

	w := writer.New(pool, writer.Config{})
	if err := w.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = w.Close(ctx) }()

	readings := fixtureReadings(t)
	for _, b := range arrivalBatches(readings) {
		writeBatch(t, w, b)
	}
	writeBatch(t, w, writer.Batch{Source: reading.SourceHTTP, Readings: readings[len(readings)-3:],
		Received: lateDuplicates, Register: true})
	writeBatch(t, w, writer.Batch{Source: reading.SourceHTTP, Received: lateDuplicates.Add(30 * time.Second),
		Rejects: []writer.Reject{{Index: 0, Serial: "6000000001", Field: "counters.total_tx_bytes",
			Reason: "test: not a number", Payload: []byte(`{"device_id":"6000000001"}`)}}})
	loadOpsFixture(t, pool)
}

// opsFixture holds sync runs, locks, captive-portal events, dead letters
// and guest sessions on the fixture day; the dashboards tests load it too.
const opsFixture = "testdata/ops-fixture.sql"

// loadOpsFixture writes the operations rows of opsFixture, once the
// routers exist.
func loadOpsFixture(t testing.TB, pool *pgxpool.Pool) {
	t.Helper()
	sql, err := os.ReadFile(opsFixture)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(context.Background(), string(sql)); err != nil {
		t.Fatalf("%s: %v", opsFixture, err)
	}
}

func writeBatch(t testing.TB, w *writer.Writer, b writer.Batch) {
	t.Helper()
	if _, err := w.Write(context.Background(), b); err != nil {
		t.Fatalf("write batch received %s: %v", b.Received, err)
	}
}

// arrivalBatches groups the readings, in arrival order, by five-minute
// slot; each batch is received three seconds after its newest reading.
func arrivalBatches(rs []reading.Reading) []writer.Batch {
	var out []writer.Batch
	var newest time.Time
	for i, r := range rs {
		slot := r.Time.Truncate(5 * time.Minute)
		if i == 0 || slot != rs[i-1].Time.Truncate(5*time.Minute) {
			out = append(out, writer.Batch{Source: reading.SourceHTTP, Register: true})
		}
		if r.Time.After(newest) {
			newest = r.Time
		}
		b := &out[len(out)-1]
		b.Readings = append(b.Readings, r)
		b.Received = newest.Add(3 * time.Second)
	}
	return out
}

// fixtureReadings parses the fixture day with the real reading parser.
func fixtureReadings(t testing.TB) []reading.Reading {
	t.Helper()
	f, err := os.Open(filepath.Join(fixtures, "router-telemetry-http.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	p := &reading.Parser{Now: func() time.Time { return testNow }}
	var out []reading.Reading
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		r, ferr := p.Parse(sc.Bytes())
		if ferr != nil {
			t.Fatalf("fixture line %d: %v", line, ferr)
		}
		out = append(out, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// expectedUsage is router-telemetry-expected.json: tx and rx bytes per
// serial.
func expectedUsage(t testing.TB) map[string][2]int64 {
	t.Helper()
	out := testkit.ExpectedUsage(t)
	if len(out) != 3 {
		t.Fatalf("expected totals for %d routers, want 3", len(out))
	}
	return out
}

// loginRole creates a login role that is a member of routerlogger_reader
// only, with a random name and password, on the server of adminDSN. It is
// dropped when the test ends (after the datasources that use it, as
// cleanups run last-in first-out).
func loginRole(t testing.TB, adminDSN string, member bool) (user, password string) {
	t.Helper()
	user, password = "rlt_grafana_"+randomHex(t), randomHex(t)+randomHex(t)
	sql := "CREATE ROLE " + pgx.Identifier{user}.Sanitize() + " LOGIN PASSWORD '" + password + "'"
	if member {
		sql += " IN ROLE " + plugin.ReaderRole
	}
	execAdmin(t, adminDSN, sql)
	t.Cleanup(func() { execAdmin(t, adminDSN, "DROP ROLE IF EXISTS "+pgx.Identifier{user}.Sanitize()) })
	return user, password
}

// execAdmin runs one statement as the test server's admin.
func execAdmin(t testing.TB, dsn, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func randomHex(t testing.TB) string {
	t.Helper()
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// instanceSettings are datasource settings pointing at the database of dsn
// as user, with jsonData overrides.
func instanceSettings(t testing.TB, dsn, user, password string,
	overrides map[string]any) backend.DataSourceInstanceSettings {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("parse test DSN: %v", err)
	}
	jd := map[string]any{
		"host": u.Host, "database": u.Path[1:], "user": user, "sslmode": "disable",
		"queryTimeoutSeconds": 10, "maxRows": 10000, "maxOpenConns": 10, "cacheTTLSeconds": 10,
		"offlineAfterMinutes": 30,
	}
	for k, v := range overrides {
		jd[k] = v
	}
	raw, err := json.Marshal(jd)
	if err != nil {
		t.Fatal(err)
	}
	return backend.DataSourceInstanceSettings{
		UID: "routerlogger", Name: "RouterLogger", Type: plugin.ID, JSONData: raw,
		DecryptedSecureJSONData: map[string]string{"password": password},
	}
}

// newDatasource returns a datasource over the fixture database at dsn,
// connecting as a fresh member of the reader role, with the clock at
// testNow. It is disposed when the test ends.
func newDatasource(t testing.TB, dsn string, overrides map[string]any) *plugin.Datasource {
	t.Helper()
	user, password := loginRole(t, dsn, true)
	return openDatasource(t, instanceSettings(t, dsn, user, password, overrides))
}

// openDatasource returns a datasource for the settings, disposed when the
// test ends.
func openDatasource(t testing.TB, s backend.DataSourceInstanceSettings) *plugin.Datasource {
	t.Helper()
	ds, err := plugin.New(context.Background(), s, plugin.Options{
		Now: func() time.Time { return testNow }, Logger: log.NewNullLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ds.Dispose)
	return ds
}

// dataQuery builds a query over the fixture day.
func dataQuery(refID, queryType, opts string, interval time.Duration) backend.DataQuery {
	if opts == "" {
		opts = "{}"
	}
	var m map[string]any
	_ = json.Unmarshal([]byte(opts), &m)
	m["refId"], m["queryType"] = refID, queryType
	raw, _ := json.Marshal(m)
	return backend.DataQuery{
		RefID: refID, QueryType: queryType, JSON: raw, Interval: interval, MaxDataPoints: 1000,
		TimeRange: backend.TimeRange{From: dayStart, To: dayEnd},
	}
}

// runQuery runs one query through QueryData and returns its response.
func runQuery(t testing.TB, ds backend.QueryDataHandler, q backend.DataQuery) backend.DataResponse {
	t.Helper()
	resp, err := ds.QueryData(context.Background(), &backend.QueryDataRequest{
		PluginContext: backend.PluginContext{PluginID: plugin.ID},
		Queries:       []backend.DataQuery{q},
	})
	if err != nil {
		t.Fatalf("QueryData returned an error instead of a per-query error: %v", err)
	}
	r, ok := resp.Responses[q.RefID]
	if !ok {
		t.Fatalf("no response for refId %s", q.RefID)
	}
	return r
}

// mustFrames runs q and fails the test on a per-query error.
func mustFrames(t testing.TB, ds backend.QueryDataHandler, q backend.DataQuery) data.Frames {
	t.Helper()
	r := runQuery(t, ds, q)
	if r.Error != nil {
		t.Fatalf("%s: %v", q.QueryType, r.Error)
	}
	return r.Frames
}

// sumField sums the int64 field name over frames, per value of the label
// serial (or "" without one).
func sumField(t testing.TB, frames data.Frames, name string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, f := range frames {
		for _, fl := range f.Fields {
			if fl.Name != name {
				continue
			}
			for i := range fl.Len() {
				v, ok := fl.At(i).(int64)
				if !ok {
					t.Fatalf("field %s: value %v is %T, want int64", name, fl.At(i), fl.At(i))
				}
				out[fl.Labels["serial"]] += v
			}
		}
	}
	return out
}

// itoa is strconv.Itoa, for building queries in tests.
func itoa(n int) string { return strconv.Itoa(n) }

// fmtAny prints a field value for comparisons.
func fmtAny(v any) string { return fmt.Sprint(v) }
