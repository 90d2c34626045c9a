package bench_test

import (
	"context"
	"testing"

	"github.com/routerlogger/routerlogger/ingest/bench"
	"github.com/routerlogger/routerlogger/internal/pgtest"
)

// BenchmarkIngest reports, per iteration, batched HTTP ingest and raw
// CopyFrom of the same rows into the same table, and their ratio.
func BenchmarkIngest(b *testing.B) {
	dsn := pgtest.DSN(b)
	for b.Loop() {
		rep, err := bench.Run(context.Background(), bench.Options{DSN: dsn, Routers: 500, PerRouter: 100})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(rep.Scenarios[0].SamplesPerS, "copy_samples/s")
		b.ReportMetric(rep.Scenarios[1].SamplesPerS, "http_batch_samples/s")
		b.ReportMetric(rep.Scenarios[1].RatioToCopy, "http/copy")
	}
}

// TestRun runs a small bench so the harness itself stays working.
func TestRun(t *testing.T) {
	dsn := pgtest.DSN(t)
	rep, err := bench.Run(context.Background(), bench.Options{DSN: dsn, Routers: 20, PerRouter: 10, Batch: 50})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Scenarios) != 2 || rep.Scenarios[1].Samples != 200 || rep.Scenarios[1].RatioToCopy <= 0 {
		t.Fatalf("report %+v", rep)
	}
}
