package plugin

import (
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

func TestNewGrid(t *testing.T) {
	from := time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name      string
		span      time.Duration
		interval  time.Duration
		maxPoints int64
		unit      time.Duration
		want      time.Duration
	}{
		{"interval wins", 24 * time.Hour, 2 * time.Hour, 1000, time.Hour, 2 * time.Hour},
		{"unit is the floor", 24 * time.Hour, time.Minute, 1000, time.Hour, time.Hour},
		{"max points widen", 24 * time.Hour, time.Second, 10, time.Minute, 144 * time.Minute},
		{"rounded up to units", 24 * time.Hour, 90 * time.Minute, 1000, time.Hour, 2 * time.Hour},
		{"no max points", 24 * time.Hour, 0, 0, time.Second, time.Second},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := backend.DataQuery{Interval: c.interval, MaxDataPoints: c.maxPoints,
				TimeRange: backend.TimeRange{From: from, To: from.Add(c.span)}}
			if g := newGrid(q, c.unit); g.width != c.want {
				t.Errorf("width %s, want %s", g.width, c.want)
			}
		})
	}
}

func TestUsageGrid(t *testing.T) {
	from := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name     string
		interval time.Duration
		want     string
		width    time.Duration
	}{
		{"hour", time.Hour, "router_usage_hourly", time.Hour},
		{"under a day", 23 * time.Hour, "router_usage_hourly", 23 * time.Hour},
		{"a day", 24 * time.Hour, "router_usage_daily", 24 * time.Hour},
		{"36 hours round up to days", 36 * time.Hour, "router_usage_daily", 48 * time.Hour},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := backend.DataQuery{Interval: c.interval, MaxDataPoints: 1000,
				TimeRange: backend.TimeRange{From: from, To: from.Add(30 * 24 * time.Hour)}}
			r, g := usageGrid(q)
			if r.routerView != c.want || g.width != c.width {
				t.Errorf("%s every %s, want %s every %s", r.routerView, g.width, c.want, c.width)
			}
		})
	}
}

func TestCheckRange(t *testing.T) {
	t0 := time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC)
	if err := checkRange(backend.TimeRange{From: t0, To: t0.Add(time.Hour)}); err != nil {
		t.Errorf("good range: %v", err)
	}
	for _, tr := range []backend.TimeRange{{From: t0, To: t0}, {From: t0, To: t0.Add(-time.Hour)}, {To: t0}} {
		if err := checkRange(tr); err == nil {
			t.Errorf("range %s to %s: no error", tr.From, tr.To)
		}
	}
}
