package plugin

import (
	"context"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/jackc/pgx/v5"
)

// guestSessionsSQL counts the captive-portal sessions that started in each
// bucket, per router; sessions on no known router have an empty serial.
const guestSessionsSQL = `SELECT coalesce(router_serial, ''), router_name,
       date_bin($3::interval, started_at, $4) AS time, count(*)
FROM guest_session_times
WHERE started_at >= $1 AND started_at < $2
  AND (cardinality($5::text[]) = 0 OR router_serial = ANY($5))
GROUP BY 1, 2, 3
ORDER BY 1, 3`

// unmatchedName names the series of sessions on no known router.
const unmatchedName = "no known router"

// guestSessionsOptions are the options of guest_sessions.
type guestSessionsOptions struct {
	routerFilter
}

type sessionCount struct {
	serial string
	name   *string
	time   time.Time
	count  int64
}

// runGuestSessions answers guest_sessions: one time series per router of
// the guest sessions started per interval, zero where none started, with
// serial and name labels.
func runGuestSessions(ctx context.Context, d *Datasource,
	r request[guestSessionsOptions]) (data.Frames, error) {
	g := newGrid(r.DataQuery, time.Minute)
	args := []any{g.from, g.to, g.interval(), binOrigin, r.Opts.serials()}

	counts, cut, err := selectAll(ctx, d, guestSessionsSQL, args,
		func(row pgx.CollectableRow) (sessionCount, error) {
			var c sessionCount
			err := row.Scan(&c.serial, &c.name, &c.time, &c.count)
			return c, err
		})
	if err != nil {
		return nil, err
	}

	buckets := g.buckets()
	var frames data.Frames
	for i := 0; i < len(counts); {
		j := i
		for j < len(counts) && counts[j].serial == counts[i].serial {
			j++
		}
		frames = append(frames, guestSessionsFrame(counts[i:j], buckets))
		i = j
	}
	return truncated(frames, cut, d.settings.MaxRows), nil
}

// guestSessionsFrame is the series of one router over every bucket.
func guestSessionsFrame(counts []sessionCount, buckets []time.Time) *data.Frame {
	serial, name := counts[0].serial, labelName(counts[0].serial, counts[0].name)
	if serial == "" {
		name = unmatchedName
	}
	byTime := make(map[time.Time]int64, len(counts))
	for _, c := range counts {
		byTime[c.time.UTC()] = c.count
	}
	values := make([]int64, len(buckets))
	for i, b := range buckets {
		values[i] = byTime[b]
	}

	value := data.NewField("sessions", data.Labels{"serial": serial, "name": name}, values)
	value.Config = &data.FieldConfig{DisplayNameFromDS: name}
	return data.NewFrame(serial, timeField(buckets), value).
		SetMeta(newMeta(data.FrameTypeTimeSeriesMulti, guestSessionsSQL))
}

// buckets returns the start of every bucket of the grid that overlaps
// [from, to), aligned as date_bin aligns them on binOrigin.
func (g grid) buckets() []time.Time {
	first := g.from.Add(-(g.from.Sub(binOrigin) % g.width))
	if first.After(g.from) {
		first = first.Add(-g.width)
	}
	var out []time.Time
	for t := first; t.Before(g.to); t = t.Add(g.width) {
		out = append(out, t.UTC())
	}
	return out
}
