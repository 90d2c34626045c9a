package bench

import (
	"github.com/prometheus/client_golang/prometheus"
)

// writerStats collects a scenario's writer metrics, to show how group
// commit behaved.
type writerStats struct {
	reg *prometheus.Registry
}

func newWriterStats() *writerStats { return &writerStats{reg: prometheus.NewRegistry()} }

// fill sets the scenario's writer figures from the writer's histograms.
func (ws *writerStats) fill(s Scenario) Scenario {
	mfs, err := ws.reg.Gather()
	if err != nil {
		return s
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			h := m.GetHistogram()
			if h == nil || h.GetSampleCount() == 0 {
				continue
			}
			n := float64(h.GetSampleCount())
			switch mf.GetName() {
			case "routerlogger_writer_batch_readings":
				s.Commits = int(h.GetSampleCount())
				s.MeanBatch = h.GetSampleSum() / n
			case "routerlogger_writer_commit_seconds":
				s.MeanCommitMs = 1000 * h.GetSampleSum() / n
			}
		}
	}
	return s
}
