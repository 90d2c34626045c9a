package plugin

import (
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

func TestInterpolate(t *testing.T) {
	q := backend.DataQuery{
		Interval: 5 * time.Minute,
		TimeRange: backend.TimeRange{
			From: time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC),
			To:   time.Date(2025, 3, 15, 0, 0, 0, 500_000_000, time.UTC),
		},
	}
	const from, to = "'2025-03-14T00:00:00Z'::timestamptz", "'2025-03-15T00:00:00.5Z'::timestamptz"
	cases := []struct {
		name, sql string
		timescale bool
		want      string
	}{
		{"time filter", "WHERE $__timeFilter(bucket)", false,
			"WHERE bucket >= " + from + " AND bucket <= " + to},
		{"from and to", "$__timeFrom(), $__timeTo()", false, from + ", " + to},
		{"group by interval, plain", "$__timeGroup(time, $__interval)", false,
			"date_bin('300 seconds'::interval, time, '2000-01-01T00:00:00Z'::timestamptz)"},
		{"group by interval, timescale", "$__timeGroup(time, $__interval)", true,
			"time_bucket('300 seconds'::interval, time)"},
		{"group by a duration, alias", "$__timeGroupAlias(s.time, '1h')", true,
			`time_bucket('3600 seconds'::interval, s.time) AS "time"`},
		{"group by days", "$__timeGroup(bucket, 1d)", false,
			"date_bin('86400 seconds'::interval, bucket, '2000-01-01T00:00:00Z'::timestamptz)"},
		{"interval", "'$__interval'::interval, $__interval_ms", false, "'5m'::interval, 300000"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := interpolate(q, c.sql, c.timescale)
			if err != nil || got != c.want {
				t.Errorf("got %q (%v), want %q", got, err, c.want)
			}
		})
	}

	bad := []struct{ name, sql, want string }{
		{"filter without column", "$__timeFilter()", "$__timeFilter: want one argument"},
		{"group without interval", "$__timeGroup(time)", "$__timeGroup: want (column, interval)"},
		{"group with a bad interval", "$__timeGroup(time, often)", `interval "often"`},
		{"unclosed", "$__timeFilter(time", "missing close bracket"},
		{"timeFrom with an argument", "$__timeFrom(time)", "take no arguments"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			_, err := interpolate(q, c.sql, false)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestDurationText(t *testing.T) {
	cases := map[time.Duration]string{
		2 * 24 * time.Hour: "2d", 3 * time.Hour: "3h", 90 * time.Minute: "90m", 45 * time.Second: "45s",
		1500 * time.Millisecond: "1500ms",
	}
	for d, want := range cases {
		if got := durationText(d); got != want {
			t.Errorf("durationText(%s) = %s, want %s", d, got, want)
		}
	}
}
