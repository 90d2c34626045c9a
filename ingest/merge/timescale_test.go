package merge_test

import (
	"log/slog"
	"testing"

	"github.com/routerlogger/routerlogger/ingest/merge"
	"github.com/routerlogger/routerlogger/ingest/usage"
	"github.com/routerlogger/routerlogger/ingest/writer"
	"github.com/routerlogger/routerlogger/ingest/writer/writertest"
	"github.com/routerlogger/routerlogger/internal/db"
	"github.com/routerlogger/routerlogger/internal/pgtest"
)

// TestMerger_Timescale merges on TimescaleDB, where the rollups are
// continuous aggregates that the merge refreshes after its commit. It
// skips, saying so, where the extension is not installed.
func TestMerger_Timescale(t *testing.T) {
	cluster := pgtest.StartTimescale(t)
	ctx := t.Context()
	pool, err := db.Open(ctx, cluster.DSN, 8)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if mode, err := db.Migrate(ctx, pool, slog.New(slog.DiscardHandler), db.TimescaleOn); err != nil ||
		mode != db.ModeTimescale {
		t.Fatalf("migrate: %q, %v; want timescale", mode, err)
	}

	w := writertest.Start(t, pool, writer.Config{})
	all := device(60)
	k, d := split(all, keepSerial, dupSerial, map[int]bool{5: true})
	write(t, w, k)
	write(t, w, d)
	for _, cagg := range []string{"usage_hourly", "usage_daily", "fleet_usage_hourly_parts"} {
		if _, err := pool.Exec(ctx, "CALL refresh_continuous_aggregate($1::regclass, NULL, NULL)", cagg); err != nil {
			t.Fatal(err)
		}
	}

	f := &mergeFixture{pool: pool, keep: routerID(t, pool, keepSerial), dup: routerID(t, pool, dupSerial),
		merged: usageReadings(all)}
	rep, err := merge.New(pool, merge.Config{}).Merge(ctx, f.keep, f.dup)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("timescale merge: moved %d, dropped %d", rep.SamplesMoved, rep.SamplesDropped)
	checkUsage(t, f)
	checkRollups(t, pool)

	want, _, _ := usage.Replay(usage.State{}, f.merged, usage.Options{})
	var tx int64
	q := "SELECT coalesce(sum(tx_bytes), 0)::bigint FROM usage_daily WHERE router_id = $1"
	if err := pool.QueryRow(ctx, q, f.keep).Scan(&tx); err != nil || tx != usage.Total(want, usage.Tx) {
		t.Errorf("materialized daily tx = %d, %v; want %d", tx, err, usage.Total(want, usage.Tx))
	}
}
