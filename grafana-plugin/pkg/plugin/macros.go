package plugin

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/gtime"
	"github.com/grafana/grafana-plugin-sdk-go/data/sqlutil"
)

// macroTimeLayout is how time literals are written into raw SQL.
const macroTimeLayout = "2006-01-02T15:04:05.999999Z"

// interpolate expands the macros of a raw SQL query:
//
//	$__timeFilter(col)         col >= '<from>' AND col <= '<to>'
//	$__timeFrom(), $__timeTo() the range's ends as timestamptz literals
//	$__timeGroup(col, iv)      time_bucket (TimescaleDB) or date_bin (plain) of col,
//	                           iv being $__interval or a duration such as 5m
//	$__timeGroupAlias(col, iv) the same, AS "time"
//	$__interval, $__interval_ms the interval, as 1m-style text or in milliseconds
func interpolate(q backend.DataQuery, rawSQL string, timescale bool) (string, error) {
	group := func(alias bool) sqlutil.MacroFunc {
		return func(sq *sqlutil.Query, args []string) (string, error) {
			return macroTimeGroup(sq, args, timescale, alias)
		}
	}
	macros := sqlutil.Macros{
		"timeFilter":     macroTimeFilter,
		"timeFrom":       macroTimeEnd(func(tr backend.TimeRange) time.Time { return tr.From }),
		"timeTo":         macroTimeEnd(func(tr backend.TimeRange) time.Time { return tr.To }),
		"timeGroup":      group(false),
		"timeGroupAlias": group(true),
		"interval": func(sq *sqlutil.Query, _ []string) (string, error) {
			return durationText(sq.Interval), nil
		},
		"interval_ms": func(sq *sqlutil.Query, _ []string) (string, error) {
			return strconv.FormatInt(sq.Interval.Milliseconds(), 10), nil
		},
	}
	sq := &sqlutil.Query{RawSQL: rawSQL, Interval: max(q.Interval, time.Second),
		TimeRange: q.TimeRange, MaxDataPoints: q.MaxDataPoints, RefID: q.RefID}
	out, err := sqlutil.Interpolate(sq, macros)
	if err != nil {
		return "", fmt.Errorf("rawSql macros: %w", err)
	}
	return out, nil
}

// timeLiteral writes t as a timestamptz literal.
func timeLiteral(t time.Time) string {
	return "'" + t.UTC().Format(macroTimeLayout) + "'::timestamptz"
}

func macroTimeFilter(sq *sqlutil.Query, args []string) (string, error) {
	if len(args) != 1 || args[0] == "" {
		return "", fmt.Errorf("$__timeFilter: want one argument, the time column, got %d", len(args))
	}
	return fmt.Sprintf("%s >= %s AND %s <= %s", args[0], timeLiteral(sq.TimeRange.From),
		args[0], timeLiteral(sq.TimeRange.To)), nil
}

func macroTimeEnd(end func(backend.TimeRange) time.Time) sqlutil.MacroFunc {
	return func(sq *sqlutil.Query, args []string) (string, error) {
		if len(args) > 1 || (len(args) == 1 && args[0] != "") {
			return "", fmt.Errorf("$__timeFrom and $__timeTo take no arguments, got %q", args)
		}
		return timeLiteral(end(sq.TimeRange)), nil
	}
}

// macroTimeGroup writes the bucket of a time column.
func macroTimeGroup(sq *sqlutil.Query, args []string, timescale, alias bool) (string, error) {
	if len(args) < 2 || args[0] == "" {
		return "", fmt.Errorf("$__timeGroup: want (column, interval), got %d arguments", len(args))
	}
	width, err := groupWidth(args[1], sq.Interval)
	if err != nil {
		return "", err
	}
	iv := fmt.Sprintf("'%d seconds'::interval", int64(width/time.Second))
	expr := fmt.Sprintf("date_bin(%s, %s, %s)", iv, args[0], timeLiteral(binOrigin))
	if timescale {
		expr = fmt.Sprintf("time_bucket(%s, %s)", iv, args[0])
	}
	if alias {
		expr += ` AS "time"`
	}
	return expr, nil
}

// groupWidth parses the interval argument of $__timeGroup: $__interval,
// or a duration such as 30s, 5m, 1h or 1d, optionally quoted. Buckets are
// whole seconds, at least one.
func groupWidth(arg string, interval time.Duration) (time.Duration, error) {
	arg = strings.Trim(strings.TrimSpace(arg), `'"`)
	w := interval
	if arg != "$__interval" {
		var err error
		if w, err = gtime.ParseDuration(arg); err != nil || w <= 0 {
			return 0, fmt.Errorf("$__timeGroup: interval %q: want $__interval or a duration such as 5m", arg)
		}
	}
	return max(w.Truncate(time.Second), time.Second), nil
}

// durationText writes d as Grafana does ($__interval = 1m), which
// PostgreSQL also reads as an interval.
func durationText(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	case d%time.Second == 0:
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
}
