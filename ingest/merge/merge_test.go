package merge_test

import (
	"errors"
	"maps"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/routerlogger/routerlogger/ingest/merge"
	"github.com/routerlogger/routerlogger/ingest/reading"
	"github.com/routerlogger/routerlogger/ingest/tokens"
	"github.com/routerlogger/routerlogger/ingest/usage"
	"github.com/routerlogger/routerlogger/ingest/writer"
	"github.com/routerlogger/routerlogger/ingest/writer/writertest"
	"github.com/routerlogger/routerlogger/internal/fleet"
	"github.com/routerlogger/routerlogger/internal/testkit"
)

const (
	keepSerial = "1100112233"
	dupSerial  = "SIM-TELEMETRY-7"
	dupMAC     = "00:1E:42:AA:BB:CC"
)

// extraTables creates tables a later migration might add: a note list
// with a unique key per router, a one-row-per-router table and a table
// that references routers by serial.
const extraTables = `
CREATE TABLE test_router_notes (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    router_id bigint NOT NULL REFERENCES routers (id),
    note text NOT NULL,
    UNIQUE (router_id, note));
CREATE TABLE test_router_geo (
    router_id bigint PRIMARY KEY REFERENCES routers (id),
    lat double precision);
CREATE TABLE test_serial_tags (
    serial text NOT NULL REFERENCES routers (serial),
    tag text NOT NULL);`

// mergeFixture is a database with one device under two router rows.
type mergeFixture struct {
	pool          *pgxpool.Pool
	keep, dup     int64
	merged        []usage.Reading // the device's series, as the keeper has it
	keepN, dupN   int
	overlapping   int
	propertyStart time.Time
}

func newMergeFixture(t *testing.T) *mergeFixture {
	t.Helper()
	pool := testkit.MigratedDB(t)
	w := writertest.Start(t, pool, writer.Config{})
	ctx := t.Context()

	all := device(60)
	both := map[int]bool{5: true, 12: true, 40: true}
	k, d := split(all, keepSerial, dupSerial, both)
	d[len(d)-1].MAC, d[len(d)-1].Model = dupMAC, "RUTX11"
	write(t, w, k)
	write(t, w, d)
	f := &mergeFixture{pool: pool, keep: routerID(t, pool, keepSerial), dup: routerID(t, pool, dupSerial),
		merged: usageReadings(all), keepN: len(k), dupN: len(d), overlapping: len(both)}

	exec(t, pool, extraTables)
	// Columns later migrations add to routers, as the RMS one will.
	exec(t, pool, `ALTER TABLE routers ADD COLUMN IF NOT EXISTS rms_id bigint;
		CREATE UNIQUE INDEX IF NOT EXISTS routers_rms_id ON routers (rms_id);
		ALTER TABLE routers ADD COLUMN test_site text`)
	exec(t, pool, "UPDATE routers SET rms_id = 4242, test_site = 'roof' WHERE id = $1", f.dup)
	exec(t, pool, `INSERT INTO test_router_notes (router_id, note) VALUES ($1, 'x'), ($2, 'x'), ($2, 'y')`,
		f.keep, f.dup)
	exec(t, pool, "INSERT INTO test_router_geo VALUES ($1, 47.1)", f.dup)
	exec(t, pool, "INSERT INTO test_serial_tags VALUES ($1, 'rms')", dupSerial)
	exec(t, pool, `INSERT INTO portal_sessions (session_id, guest_mac, router_id, events, updated_at)
		VALUES ('s-1', '02:00:00:00:00:01', $1, 1, now())`, f.dup)
	exec(t, pool, `INSERT INTO radius_sessions (session_id, guest_mac, router_id, updated_at)
		VALUES ('r-1', '02:00:00:00:00:01', $1, now())`, f.dup)
	if _, err := tokens.NewStore(pool, nil, 0).CreateRouter(ctx, dupSerial, "dup token"); err != nil {
		t.Fatal(err)
	}

	// Properties: the telemetry row was at B since the day before; the
	// RMS row has been at A since 23:00.
	props := fleet.NewStore(pool)
	f.propertyStart = t0.Add(time.Hour)
	if _, err := props.AssignProperty(ctx, dupSerial, "Hotel B", t0.Add(-24*time.Hour), "cli"); err != nil {
		t.Fatal(err)
	}
	if _, err := props.AssignProperty(ctx, keepSerial, "Hotel A", f.propertyStart, "clickup"); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestMerger_Merge(t *testing.T) {
	f := newMergeFixture(t)
	ctx := t.Context()
	m := merge.New(f.pool, merge.Config{})

	keepBefore := rowCounts(t, f.pool, f.keep, keepSerial)
	dupBefore := rowCounts(t, f.pool, f.dup, dupSerial)
	t.Logf("before, keeper %s:%s", keepSerial, formatCounts(keepBefore))
	t.Logf("before, duplicate %s:%s", dupSerial, formatCounts(dupBefore))

	dry, err := m.DryRun(ctx, f.keep, f.dup)
	if err != nil {
		t.Fatal(err)
	}
	if got := rowCounts(t, f.pool, f.dup, dupSerial); !maps.Equal(got, dupBefore) {
		t.Fatalf("dry run changed the duplicate's rows:%s", formatCounts(got))
	}

	rep, err := m.Merge(ctx, f.keep, f.dup)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("report: matched by %s %s, moved %d, dropped %d, recomputed %d (changed %d) from %s, rows %v",
		rep.MatchedBy, rep.Value, rep.SamplesMoved, rep.SamplesDropped, rep.Recomputed, rep.Changed,
		rep.From, rep.Rows)
	dry.DryRun = false
	if dry.SamplesMoved != rep.SamplesMoved || dry.SamplesDropped != rep.SamplesDropped ||
		!maps.Equal(dry.Rows, rep.Rows) {
		t.Errorf("dry run %+v differs from merge %+v", dry, rep)
	}

	keepAfter := rowCounts(t, f.pool, f.keep, keepSerial)
	dupAfter := rowCounts(t, f.pool, f.dup, dupSerial)
	t.Logf("after, keeper %s:%s", keepSerial, formatCounts(keepAfter))
	t.Logf("after, duplicate %s:%s", dupSerial, formatCounts(dupAfter))

	t.Run("counts", func(t *testing.T) {
		if rep.MatchedBy != merge.ByIMEI || rep.Value != imei {
			t.Errorf("matched by %s %s, want imei %s", rep.MatchedBy, rep.Value, imei)
		}
		if rep.SamplesDropped != int64(f.overlapping) || rep.SamplesMoved != int64(f.dupN-f.overlapping) {
			t.Errorf("moved %d, dropped %d; want %d, %d", rep.SamplesMoved, rep.SamplesDropped,
				f.dupN-f.overlapping, f.overlapping)
		}
		want := map[string]int64{
			"public.samples.router_id":            int64(len(f.merged)),
			"public.test_router_notes.router_id":  2,
			"public.test_router_geo.router_id":    1,
			"public.test_serial_tags.serial":      1,
			"public.api_tokens.router_id":         1,
			"public.portal_sessions.router_id":    1,
			"public.radius_sessions.router_id":    1,
			"public.router_properties.router_id":  2,
			"public.router_status.router_id":      1,
			"public.router_merges.keep_router_id": 1,
		}
		for name, n := range want {
			if keepAfter[name] != n {
				t.Errorf("keeper's %s = %d, want %d", name, keepAfter[name], n)
			}
		}
		if rep.Rows["public.test_router_notes.router_id dropped"] != 1 {
			t.Errorf("colliding note not reported as dropped: %v", rep.Rows)
		}
	})

	t.Run("no orphans", func(t *testing.T) {
		for name, n := range dupAfter {
			if n != 0 {
				t.Errorf("%s still references the deleted router %d: %d rows", name, f.dup, n)
			}
		}
		var n int
		err := f.pool.QueryRow(ctx, "SELECT count(*) FROM routers WHERE id = $1", f.dup).Scan(&n)
		if err != nil || n != 0 {
			t.Errorf("duplicate router rows = %d, %v; want 0", n, err)
		}
	})

	t.Run("usage equals one pass of the rules", func(t *testing.T) {
		checkUsage(t, f)
	})
	t.Run("rollups equal a recompute from samples", func(t *testing.T) {
		checkRollups(t, f.pool)
	})
	t.Run("status, inventory, properties", func(t *testing.T) {
		checkKeeper(t, f)
	})
}

// checkUsage compares the keeper's stored deltas and flags with one pass
// of the rules over the device's whole series.
func checkUsage(t *testing.T, f *mergeFixture) {
	want, _, _ := usage.Replay(usage.State{}, f.merged, usage.Options{})
	rows, err := f.pool.Query(t.Context(),
		"SELECT time, tx_delta, rx_delta, flags FROM samples WHERE router_id = $1 ORDER BY time", f.keep)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	i := 0
	for ; rows.Next(); i++ {
		var at time.Time
		var tx, rx *int64
		var flags int32
		if err := rows.Scan(&at, &tx, &rx, &flags); err != nil {
			t.Fatal(err)
		}
		if i >= len(want) {
			continue
		}
		w := want[i]
		got := usage.Flags(flags) &^ usage.ArrivalFlags
		if !at.Equal(f.merged[i].Time) || !eq(tx, w.TxDelta) || !eq(rx, w.RxDelta) || got != w.Flags {
			t.Errorf("sample %d at %s: tx %v rx %v flags %v; want %v %v %v", i, at,
				deref(tx), deref(rx), got.Events(), deref(w.TxDelta), deref(w.RxDelta), w.Flags.Events())
		}
	}
	if i != len(want) {
		t.Errorf("keeper has %d samples, want %d", i, len(want))
	}

	var tx, rx int64
	q := "SELECT sum(tx_bytes)::bigint, sum(rx_bytes)::bigint FROM router_usage_daily WHERE serial = $1"
	if err := f.pool.QueryRow(t.Context(), q, keepSerial).Scan(&tx, &rx); err != nil {
		t.Fatal(err)
	}
	wantTx, wantRx := usage.Total(want, usage.Tx), usage.Total(want, usage.Rx)
	t.Logf("keeper usage: tx %d rx %d; one pass of the rules: tx %d rx %d", tx, rx, wantTx, wantRx)
	if tx != wantTx || rx != wantRx {
		t.Errorf("keeper's daily usage = %d/%d, want %d/%d", tx, rx, wantTx, wantRx)
	}
}

func eq(a, b *int64) bool { return a == nil && b == nil || a != nil && b != nil && *a == *b }

func deref(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

// checkRollups compares every hourly, daily and fleet rollup row with a
// recompute from the stored samples.
func checkRollups(t *testing.T, pool *pgxpool.Pool) {
	for _, c := range []struct{ table, unit string }{{"usage_hourly", "hour"}, {"usage_daily", "day"}} {
		q := `WITH fresh AS (
				SELECT router_id, date_trunc('` + c.unit + `', time, 'UTC') AS bucket,
					coalesce(sum(tx_delta), 0) AS tx, coalesce(sum(rx_delta), 0) AS rx,
					count(*) FILTER (WHERE flags & 1 = 0) AS n
				FROM samples GROUP BY 1, 2)
			SELECT count(*) FROM fresh f FULL JOIN ` + c.table + ` u
				ON u.router_id = f.router_id AND u.bucket = f.bucket
			WHERE (f.tx, f.rx, f.n) IS DISTINCT FROM (u.tx_bytes, u.rx_bytes, u.samples)`
		var bad int
		if err := pool.QueryRow(t.Context(), q).Scan(&bad); err != nil {
			t.Fatal(err)
		}
		if bad != 0 {
			t.Errorf("%s: %d rows differ from a recompute from samples", c.table, bad)
		}
	}

	const fq = `WITH fresh AS (
			SELECT date_trunc('hour', time, 'UTC') AS bucket, coalesce(sum(tx_delta), 0) AS tx,
				coalesce(sum(rx_delta), 0) AS rx, count(*) FILTER (WHERE flags & 1 = 0) AS n
			FROM samples GROUP BY 1)
		SELECT count(*) FROM fresh f FULL JOIN fleet_usage_hourly u ON u.bucket = f.bucket
		WHERE (f.tx, f.rx, f.n) IS DISTINCT FROM (u.tx_bytes, u.rx_bytes, u.samples)`
	var bad int
	if err := pool.QueryRow(t.Context(), fq).Scan(&bad); err != nil {
		t.Fatal(err)
	}
	if bad != 0 {
		t.Errorf("fleet_usage_hourly: %d buckets differ from a recompute from samples", bad)
	}
}

// checkKeeper checks the keeper's status, inventory and property history.
func checkKeeper(t *testing.T, f *mergeFixture) {
	ctx := t.Context()
	_, final, _ := usage.Replay(usage.State{}, f.merged, usage.Options{})
	var at time.Time
	var txBase, rxBase int64
	q := "SELECT time, tx_base, rx_base FROM router_status WHERE router_id = $1"
	if err := f.pool.QueryRow(ctx, q, f.keep).Scan(&at, &txBase, &rxBase); err != nil {
		t.Fatal(err)
	}
	if !at.Equal(final.Time) || txBase != final.Tx.Base || rxBase != final.Rx.Base {
		t.Errorf("status = %s tx %d rx %d, want %s %d %d", at, txBase, rxBase, final.Time,
			final.Tx.Base, final.Rx.Base)
	}

	var lan, model, site string
	var rms int64
	q = `SELECT coalesce(lan_mac, ''), coalesce(model, ''), coalesce(rms_id, 0), coalesce(test_site, '')
		FROM routers WHERE id = $1`
	if err := f.pool.QueryRow(ctx, q, f.keep).Scan(&lan, &model, &rms, &site); err != nil {
		t.Fatal(err)
	}
	if lan != dupMAC || model != "RUTX11" || rms != 4242 || site != "roof" {
		t.Errorf("keeper's inventory = %q %q %d %q, want the duplicate's %q RUTX11 4242 roof",
			lan, model, rms, site, dupMAC)
	}

	hist, err := fleet.NewStore(f.pool).History(ctx, dupSerial) // the old serial still resolves
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 || hist[0].Property != "Hotel B" || !hist[0].To.Equal(f.propertyStart) ||
		hist[1].Property != "Hotel A" || hist[1].To != nil {
		t.Errorf("merged history = %+v; want B until %s, then A", hist, f.propertyStart)
	}
}

// TestMerger_RefusesNames checks that routers sharing only a name are
// neither found nor merged.
func TestMerger_RefusesNames(t *testing.T) {
	pool := testkit.MigratedDB(t)
	exec(t, pool, `INSERT INTO routers (serial, name, imei, lan_mac) VALUES
		('AAAA1111', 'Reception', '356789012345678', '00:1E:42:00:00:01'),
		('BBBB2222', 'Reception', '356789012345679', '00:1E:42:00:00:02'),
		('CCCC3333', 'Reception', NULL, NULL)`)
	m := merge.New(pool, merge.Config{})

	pairs, err := m.FindDuplicates(t.Context())
	if err != nil || len(pairs) != 0 {
		t.Fatalf("FindDuplicates = %+v, %v; want none", pairs, err)
	}
	a, b := routerID(t, pool, "AAAA1111"), routerID(t, pool, "CCCC3333")
	if _, err := m.Merge(t.Context(), a, b); !errors.Is(err, merge.ErrNotDuplicate) {
		t.Fatalf("merge by name: err = %v, want ErrNotDuplicate", err)
	}
	var n int
	if err := pool.QueryRow(t.Context(), "SELECT count(*) FROM routers").Scan(&n); err != nil || n != 3 {
		t.Errorf("routers after refused merge = %d, %v; want 3", n, err)
	}
}

func TestMerger_FindDuplicates(t *testing.T) {
	pool := testkit.MigratedDB(t)
	exec(t, pool, `INSERT INTO routers (serial, name, imei, lan_mac) VALUES
		('R-IMEI-1', 'a', '35-678901-234567-8', NULL),
		('R-IMEI-2', 'b', '356789012345678', NULL),
		('rut-1234567', 'c', NULL, NULL),
		('RUT1234567', 'd', NULL, NULL),
		('R-MAC-1', 'e', NULL, '00-1e-42-12-34-56'),
		('00:1E:42:12:34:56', 'f', NULL, NULL),
		('R-ZERO-1', 'g', '000000000000000', '00:00:00:00:00:00'),
		('R-ZERO-2', 'h', '000000000000000', '00:00:00:00:00:00')`)
	exec(t, pool, `INSERT INTO samples (router_id, time, source, received_at)
		SELECT id, now(), 'http', now() FROM routers WHERE serial = 'R-IMEI-2'`)

	pairs, err := merge.New(pool, merge.Config{}).FindDuplicates(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	type pair struct{ keep, dup, by string }
	var got []pair
	for _, p := range pairs {
		got = append(got, pair{p.Keep.Serial, p.Dup.Serial, p.MatchedBy})
	}
	want := []pair{
		{"R-IMEI-2", "R-IMEI-1", merge.ByIMEI}, // the row with samples is kept
		{"rut-1234567", "RUT1234567", merge.BySerial},
		{"R-MAC-1", "00:1E:42:12:34:56", merge.ByLANMAC},
	}
	if len(got) != len(want) {
		t.Fatalf("pairs = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("pair %d = %v, want %v", i, got[i], want[i])
		}
	}
}

// TestRefs checks that the catalog discovery finds a table the test
// creates, with its unique keys, besides the schema's own.
func TestRefs(t *testing.T) {
	pool := testkit.MigratedDB(t)
	exec(t, pool, extraTables)
	refs, err := merge.Refs(t.Context(), pool)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]merge.Ref{}
	for _, r := range refs {
		byName[r.Name()] = r
	}
	for _, name := range []string{"public.samples.router_id", "public.api_tokens.router_id",
		"public.portal_sessions.router_id", "public.router_properties.router_id",
		"public.test_router_notes.router_id", "public.test_router_geo.router_id", "public.test_serial_tags.serial"} {
		if _, ok := byName[name]; !ok {
			t.Errorf("reference %s not found; found %v", name, refs)
		}
	}
	notes := byName["public.test_router_notes.router_id"]
	if len(notes.Unique) != 1 || len(notes.Unique[0]) != 1 || notes.Unique[0][0] != "note" {
		t.Errorf("test_router_notes unique keys = %v, want [[note]]", notes.Unique)
	}
	geo := byName["public.test_router_geo.router_id"]
	if len(geo.Unique) != 1 || len(geo.Unique[0]) != 0 {
		t.Errorf("test_router_geo unique keys = %v, want [[]] (router_id alone)", geo.Unique)
	}
	if tags := byName["public.test_serial_tags.serial"]; tags.Target != "serial" {
		t.Errorf("test_serial_tags target = %q, want serial", tags.Target)
	}
}

// TestMerger_SeriesShapes merges series cut in other ways: the duplicate
// after the keeper (settling a suspect the keeper holds), before it, and
// only repeating the keeper's readings.
func TestMerger_SeriesShapes(t *testing.T) {
	tests := []struct {
		name      string
		keep, dup func(i int) bool
	}{
		{"dup after a held suspect", func(i int) bool { return i <= 30 }, func(i int) bool { return i > 30 }},
		{"dup before", func(i int) bool { return i >= 15 }, func(i int) bool { return i < 15 }},
		{"dup repeats only", func(int) bool { return true }, func(i int) bool { return i == 3 || i == 4 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pool := testkit.MigratedDB(t)
			w := writertest.Start(t, pool, writer.Config{})
			var k, d []reading.Reading
			for i, r := range device(45) {
				if tt.keep(i) {
					r.DeviceID = keepSerial
					k = append(k, r)
				}
				if tt.dup(i) {
					r.DeviceID = dupSerial
					d = append(d, r)
				}
			}
			write(t, w, k)
			write(t, w, d)
			f := &mergeFixture{pool: pool, keep: routerID(t, pool, keepSerial), dup: routerID(t, pool, dupSerial),
				merged: usageReadings(device(45))}

			rep, err := merge.New(pool, merge.Config{}).Merge(t.Context(), f.keep, f.dup)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("moved %d, dropped %d, recomputed %d (changed %d)", rep.SamplesMoved,
				rep.SamplesDropped, rep.Recomputed, rep.Changed)
			checkUsage(t, f)
			checkRollups(t, pool)
		})
	}
}
