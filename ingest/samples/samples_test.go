package samples_test

import (
	"testing"
	"time"

	"github.com/routerlogger/routerlogger/ingest/samples"
	"github.com/routerlogger/routerlogger/ingest/usage"
	"github.com/routerlogger/routerlogger/internal/testkit"
)

func TestCounterColumns_roundTrip(t *testing.T) {
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		c    usage.Counter
	}{
		{"unknown", usage.Counter{}},
		{"known", usage.Counter{Known: true, Base: 1200}},
		{"pending", usage.Counter{Known: true, Base: 1200, Pending: true, PendingValue: 7, PendingAt: at}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base, pending, pendingAt := samples.CounterColumns(tt.c)
			if (base == nil) == tt.c.Known || (pending == nil) == tt.c.Pending {
				t.Fatalf("columns %v %v %v for %+v", base, pending, pendingAt, tt.c)
			}
			if got := samples.CounterFrom(base, pending, pendingAt); got != tt.c {
				t.Fatalf("CounterFrom = %+v, want %+v", got, tt.c)
			}
		})
	}
}

func TestStateEqual(t *testing.T) {
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	up1, up2 := int64(5), int64(5)
	a := usage.State{Seen: true, Time: at, Uptime: &up1, Tx: usage.Counter{Known: true, Base: 3}}
	b := usage.State{Seen: true, Time: at.In(time.FixedZone("x", 3600)), Uptime: &up2,
		Tx: usage.Counter{Known: true, Base: 3}}
	if !samples.StateEqual(a, b) {
		t.Fatal("same instant and values in another zone should be equal")
	}
	b.Uptime = nil
	if samples.StateEqual(a, b) {
		t.Fatal("a missing uptime should differ")
	}
}

func TestStateBefore(t *testing.T) {
	ctx := t.Context()
	pool := testkit.MigratedDB(t)
	var id int64
	if err := pool.QueryRow(ctx, "INSERT INTO routers (serial) VALUES ('s1') RETURNING id").Scan(&id); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	const ins = `INSERT INTO samples (router_id, time, tx_counter, uptime_s, flags, source,
			received_at, tx_base, tx_pending, tx_pending_at)
		VALUES ($1, $2, 100, 60, 0, 'http', now(), 100, $3, $4)`
	pendingAt := t0.Add(5 * time.Minute)
	for _, r := range []struct {
		at        time.Time
		pending   *int64
		pendingAt *time.Time
	}{{t0, nil, nil}, {t0.Add(5 * time.Minute), new(int64(7)), &pendingAt}} {
		if _, err := pool.Exec(ctx, ins, id, r.at, r.pending, r.pendingAt); err != nil {
			t.Fatal(err)
		}
	}

	got, err := samples.StateBefore(ctx, pool, id, t0)
	if err != nil || got.Seen {
		t.Fatalf("before the first sample: %+v, %v; want the zero state", got, err)
	}

	got, err = samples.StateBefore(ctx, pool, id, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	uptime := int64(60)
	want := usage.State{Seen: true, Time: pendingAt, Uptime: &uptime,
		Tx: usage.Counter{Known: true, Base: 100, Pending: true, PendingValue: 7, PendingAt: pendingAt}}
	if !samples.StateEqual(got, want) || got.Time.Location() != time.UTC {
		t.Fatalf("StateBefore = %+v, want %+v in UTC", got, want)
	}
}
