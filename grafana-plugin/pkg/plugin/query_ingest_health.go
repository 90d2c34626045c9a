package plugin

import (
	"context"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/jackc/pgx/v5"
)

// ingestHealthSQL sums ingest_health over sources into buckets.
const ingestHealthSQL = `SELECT date_bin($3::interval, minute, $4) AS time,
       sum(accepted)::bigint, sum(duplicates)::bigint, sum(rejected)::bigint
FROM ingest_health
WHERE minute >= $1 AND minute < $2
GROUP BY 1
ORDER BY 1`

type ingestPoint struct {
	time                          time.Time
	accepted, duplicates, rejects int64
}

// runIngestHealth answers ingest_health: readings accepted, duplicated and
// rejected per bucket (of whole minutes), and the share rejected.
func runIngestHealth(ctx context.Context, d *Datasource,
	r request[noOptions]) (data.Frames, error) {
	g := newGrid(r.DataQuery, time.Minute)
	args := []any{g.from, g.to, g.interval(), binOrigin}

	points, cut, err := selectAll(ctx, d, ingestHealthSQL, args,
		func(row pgx.CollectableRow) (ingestPoint, error) {
			var p ingestPoint
			err := row.Scan(&p.time, &p.accepted, &p.duplicates, &p.rejects)
			return p, err
		})
	if err != nil {
		return nil, err
	}

	n := len(points)
	times, acc, dup, rej, rate := make([]time.Time, n), make([]int64, n), make([]int64, n),
		make([]int64, n), make([]float64, n)
	for i, p := range points {
		times[i], acc[i], dup[i], rej[i] = p.time.UTC(), p.accepted, p.duplicates, p.rejects
		rate[i] = rejectRate(p.rejects, p.accepted+p.duplicates+p.rejects)
	}
	frame := data.NewFrame("ingest_health",
		timeField(times),
		field("accepted", "Accepted", "", acc),
		field("duplicates", "Duplicates", "", dup),
		field("rejected", "Rejected", "", rej),
		field("reject_rate", "Reject rate", unitPercent, rate),
	).SetMeta(newMeta(data.FrameTypeTimeSeriesWide, ingestHealthSQL))
	return truncated(data.Frames{frame}, cut, d.settings.MaxRows), nil
}

// rejectRate is rejected/total, and 0 when nothing arrived.
func rejectRate(rejected, total int64) float64 {
	if total == 0 {
		return 0
	}
	return float64(rejected) / float64(total)
}
