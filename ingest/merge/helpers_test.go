package merge_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/routerlogger/routerlogger/ingest/merge"
	"github.com/routerlogger/routerlogger/ingest/reading"
	"github.com/routerlogger/routerlogger/ingest/usage"
	"github.com/routerlogger/routerlogger/ingest/writer"
)

var t0 = time.Date(2026, 11, 2, 22, 0, 0, 0, time.UTC)

const imei = "356789012345678"

// device is one router's day as it sent it: every 5 minutes, a reboot at
// step 20 and a counter glitch at step 30, so that the rules matter.
func device(steps int) []reading.Reading {
	out := make([]reading.Reading, steps)
	var tx, rx, up int64 = 5_000_000, 9_000_000, 3600
	for i := range out {
		switch {
		case i == 20:
			tx, rx, up = 1000, 2000, 30
		case i > 0:
			tx, rx, up = tx+int64(1000*(i+1)), rx+int64(3000*(i+1)), up+300
		}
		r := reading.Reading{Time: t0.Add(time.Duration(i) * 5 * time.Minute), IMEI: imei,
			TxBytes: ptr(tx), RxBytes: ptr(rx), Uptime: ptr(up)}
		if i == 30 {
			r.TxBytes = ptr(tx / 2) // a glitch: the next reading is back above
		}
		out[i] = r
	}
	return out
}

func ptr(v int64) *int64 { return &v }

// split gives the readings of device to two serials as two registrations
// of one router would: dup gets every third, keep the rest; both get the
// readings at the times in both, dup with a different rx, which the merge
// must drop.
func split(all []reading.Reading, keep, dup string, both map[int]bool) (k, d []reading.Reading) {
	for i, r := range all {
		toDup := i%3 == 0 || both[i]
		toKeep := i%3 != 0 || both[i]
		if toKeep {
			r.DeviceID = keep
			k = append(k, r)
		}
		if toDup {
			r.DeviceID = dup
			if both[i] {
				r.RxBytes = ptr(*r.RxBytes + 7)
			}
			d = append(d, r)
		}
	}
	return k, d
}

// write posts readings through the real writer, as one registering batch.
func write(tb testing.TB, w *writer.Writer, rs []reading.Reading) {
	tb.Helper()
	b := writer.Batch{Source: reading.SourceHTTP, Readings: rs, Register: true}
	if _, err := w.Write(tb.Context(), b); err != nil {
		tb.Fatal(err)
	}
}

// routerID returns the id of serial.
func routerID(tb testing.TB, pool *pgxpool.Pool, serial string) int64 {
	tb.Helper()
	var id int64
	if err := pool.QueryRow(tb.Context(), "SELECT id FROM routers WHERE serial = $1", serial).Scan(&id); err != nil {
		tb.Fatalf("router %s: %v", serial, err)
	}
	return id
}

// exec runs statements or fails the test.
func exec(tb testing.TB, pool *pgxpool.Pool, sql string, args ...any) {
	tb.Helper()
	if _, err := pool.Exec(tb.Context(), sql, args...); err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
}

// rowCounts counts, for every reference to routers the catalog knows, the
// rows that reference router id (or its serial).
func rowCounts(tb testing.TB, pool *pgxpool.Pool, id int64, serial string) map[string]int64 {
	tb.Helper()
	refs, err := merge.Refs(tb.Context(), pool)
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string]int64{}
	for _, r := range refs {
		var v any = id
		if r.Target == "serial" {
			v = serial
		}
		var n int64
		q := fmt.Sprintf("SELECT count(*) FROM %s WHERE %s = $1", r.Table, r.Column)
		if err := pool.QueryRow(tb.Context(), q, v).Scan(&n); err != nil {
			tb.Fatal(err)
		}
		out[r.Name()] = n
	}
	return out
}

// formatCounts prints counts in name order, for the test log.
func formatCounts(m map[string]int64) string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "\n    %-40s %6d", n, m[n])
	}
	return b.String()
}

// usageReadings is what the rules see of rs.
func usageReadings(rs []reading.Reading) []usage.Reading {
	out := make([]usage.Reading, len(rs))
	for i, r := range rs {
		out[i] = usage.Reading{Time: r.Time, Uptime: r.Uptime, Tx: r.TxBytes, Rx: r.RxBytes}
	}
	return out
}
