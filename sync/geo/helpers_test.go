package geo_test

import (
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/routerlogger/routerlogger/ingest/writer"
	"github.com/routerlogger/routerlogger/ingest/writer/writertest"
	"github.com/routerlogger/routerlogger/internal/clock"
	"github.com/routerlogger/routerlogger/internal/locks"
	"github.com/routerlogger/routerlogger/internal/testkit"
	"github.com/routerlogger/routerlogger/sync/geo"
	"github.com/routerlogger/routerlogger/sync/geo/geotest"
	"github.com/routerlogger/routerlogger/sync/syncrun"
)

// dayEnd is the end of the fixture day, when the fixture's routers were
// last heard of.
var dayEnd = time.Date(2025, 3, 15, 0, 0, 0, 0, time.UTC)

// The fixture's serving cells as the provider receives them, and where
// the fake puts them. The test PLMN 001-01 is unknown to the provider.
var (
	cellEE       = geotest.CellKey{Radio: "lte", MCC: 234, MNC: 30, LAC: 3211, CID: 21283329}
	cellVodafone = geotest.CellKey{Radio: "lte", MCC: 234, MNC: 15, LAC: 1048, CID: 35104010}
	cellTest     = geotest.CellKey{Radio: "lte", MCC: 1, MNC: 1, LAC: 1, CID: 257}
	fixLondon    = geotest.Fix{Lat: 51.5074, Lon: -0.1278, AccuracyM: 1200}
	fixLeeds     = geotest.Fix{Lat: 53.8008, Lon: -1.5491, AccuracyM: 900}
)

// harness is a migrated database with a writer, the fake provider and a
// runner with the geo job registered.
type harness struct {
	pool   *pgxpool.Pool
	w      *writer.Writer
	fake   *geotest.Provider
	clock  *clock.Fake
	runner *syncrun.Runner
}

type harnessOpts struct {
	key     string // geotest.Key when empty
	client  geo.ClientOptions
	fixture bool // load the telemetry fixture
	// runTimeout bounds a run (the runner's default when zero).
	runTimeout time.Duration
}

func newHarness(t *testing.T, o harnessOpts) *harness {
	t.Helper()
	h := &harness{pool: testkit.MigratedDB(t), fake: geotest.New(t), clock: clock.NewFake(dayEnd)}
	h.w = writertest.Start(t, h.pool, writer.Config{})
	h.fake.Add(cellEE, fixLondon)
	h.fake.Add(cellVodafone, fixLeeds)

	co := o.client
	co.URL, co.Key = h.fake.URL, geotest.Key
	if o.key != "" {
		co.Key = o.key
	}
	if co.RetryWait == 0 {
		co.RetryWait = 5 * time.Millisecond
	}
	quiet := slog.New(slog.DiscardHandler)
	job, err := geo.New(h.pool, geo.Config{Client: geo.NewClient(co), Clock: h.clock, Logger: quiet,
		CheckpointEvery: 1})
	if err != nil {
		t.Fatal(err)
	}
	lk, err := locks.New(h.pool, locks.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	h.runner, err = syncrun.NewRunner(h.pool, syncrun.Options{Locks: lk, Logger: quiet,
		RunTimeout: o.runTimeout})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.runner.Register(job, time.Hour); err != nil {
		t.Fatal(err)
	}

	if o.fixture {
		h.writeLines(t, testkit.TelemetryLines(t))
	}
	return h
}

// writeLines parses telemetry bodies with the real parser and writes
// them through the real writer, registering new routers.
func (h *harness) writeLines(t *testing.T, lines [][]byte) {
	t.Helper()
	writertest.Write(t, h.w, writertest.Parse(t, dayEnd.Add(24*time.Hour), lines...)...)
}

// report writes one reading of serial at at with the given cell JSON.
func (h *harness) report(t *testing.T, serial string, at time.Time, networkType, mcc, mnc,
	cell string) {
	t.Helper()
	line := fmt.Sprintf(`{"device_id":%q,"timestamp":%q,"network_type":%q,"mcc":%q,"mnc":%q,`+
		`"cell":%s}`,
		serial, at.Format(time.RFC3339), networkType, mcc, mnc, cell)
	h.writeLines(t, [][]byte{[]byte(line)})
}

// run runs the job once and returns its result.
func (h *harness) run(t *testing.T) syncrun.Result {
	t.Helper()
	res, err := h.runner.RunOnce(t.Context(), geo.Name)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// wantRun checks a run's status and counts.
func wantRun(t *testing.T, res syncrun.Result, st syncrun.Status, c syncrun.Counts) {
	t.Helper()
	if res.Status != st || res.Counts != c {
		t.Fatalf("run: %s %+v (%s), want %s %+v", res.Status, res.Counts, res.Error, st, c)
	}
}

// history returns a router's location rows, oldest first.
func (h *harness) history(t *testing.T, serial string) []location {
	t.Helper()
	rows, err := h.pool.Query(t.Context(), `
		SELECT lat, lon, accuracy_m, coalesce(moved_m, -1), observed_at
		FROM router_location_history WHERE serial = $1 ORDER BY observed_at`, serial)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []location
	for rows.Next() {
		var l location
		if err := rows.Scan(&l.lat, &l.lon, &l.accuracy, &l.moved, &l.at); err != nil {
			t.Fatal(err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

type location struct {
	lat, lon float64
	accuracy *int
	moved    float64
	at       time.Time
}

// offsetNorth returns the position d metres north of f.
func offsetNorth(f geotest.Fix, d float64) geotest.Fix {
	// One degree of latitude is 111195 m on the mean sphere of Distance.
	return geotest.Fix{Lat: f.Lat + d/111_195.08, Lon: f.Lon, AccuracyM: f.AccuracyM}
}
