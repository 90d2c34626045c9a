package bench_test

import (
	"context"
	"slices"
	"testing"

	"github.com/routerlogger/routerlogger/ingest/bench"
	"github.com/routerlogger/routerlogger/ingest/mqtt/mqtttest"
	"github.com/routerlogger/routerlogger/internal/pgtest"
)

// BenchmarkIngest reports, per iteration, every scenario's samples per
// second and its ratio to raw CopyFrom of the same rows into the same
// table.
func BenchmarkIngest(b *testing.B) {
	dsn := pgtest.DSN(b)
	mqtttest.RequireBinary(b)
	conf := mqtttest.DeployConf(b)
	for b.Loop() {
		rep, err := bench.Run(context.Background(), bench.Options{DSN: dsn, MosquittoConf: conf})
		if err != nil {
			b.Fatal(err)
		}
		for _, s := range rep.Scenarios {
			b.ReportMetric(s.SamplesPerS, s.Name+"_samples/s")
			if s.Name != bench.ScenarioCopy {
				b.ReportMetric(s.RatioToCopy, s.Name+"/copy")
			}
		}
		b.ReportMetric(rep.PeakRSSMB, "peak_rss_MB")
	}
}

// TestRun runs a small bench of every scenario so the harness itself stays
// working.
func TestRun(t *testing.T) {
	dsn := pgtest.DSN(t)
	mqtttest.RequireBinary(t)
	rep, err := bench.Run(context.Background(), bench.Options{DSN: dsn, Routers: 20, PerRouter: 10,
		Batch: 50, SingleClients: 10, Publishers: 2, MosquittoConf: mqtttest.DeployConf(t)})
	if err != nil {
		t.Fatal(err)
	}

	var names []string
	for _, s := range rep.Scenarios {
		names = append(names, s.Name)
		if s.Samples != 200 || s.SamplesPerS <= 0 || s.RatioToCopy <= 0 || s.P99ms < s.P50ms {
			t.Errorf("scenario %+v", s)
		}
		if s.Name != bench.ScenarioCopy && (s.Commits == 0 || s.MeanBatch <= 0) {
			t.Errorf("%s: no writer figures: %+v", s.Name, s)
		}
	}
	if !slices.Equal(names, bench.AllScenarios) {
		t.Errorf("scenarios %v, want %v", names, bench.AllScenarios)
	}
	if rep.PeakRSSMB <= 0 {
		t.Errorf("peak RSS %v MB", rep.PeakRSSMB)
	}
}

func TestRun_UnknownScenario(t *testing.T) {
	_, err := bench.Run(context.Background(), bench.Options{DSN: "postgres://127.0.0.1:1/x",
		Scenarios: []string{"copy", "carrier_pigeon"}})
	if err == nil {
		t.Fatal("no error for an unknown scenario")
	}
}
