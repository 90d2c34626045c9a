package plugin

import (
	"context"
	"fmt"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/jackc/pgx/v5"
)

// fleetUsageSQL sums a fleet rollup view into the grid's buckets; the view
// is %s, from the fixed rollups only.
const fleetUsageSQL = `SELECT date_bin($3::interval, bucket, $4) AS time,
       sum(tx_bytes)::bigint, sum(rx_bytes)::bigint, sum(total_bytes)::bigint
FROM %s
WHERE bucket > $1 AND bucket < $2
GROUP BY 1
ORDER BY 1`

type usagePoint struct {
	time          time.Time
	tx, rx, total int64
}

// runFleetUsage answers fleet_usage: one wide time series of tx, rx and
// total bytes.
func runFleetUsage(ctx context.Context, d *Datasource, r request[noOptions]) (data.Frames, error) {
	ru, g := usageGrid(r.DataQuery)
	sql := fmt.Sprintf(fleetUsageSQL, ru.fleetView)
	args := []any{ru.overlapStart(g.from), g.to, g.interval(), binOrigin}

	points, cut, err := selectAll(ctx, d, sql, args,
		func(row pgx.CollectableRow) (usagePoint, error) {
			var p usagePoint
			err := row.Scan(&p.time, &p.tx, &p.rx, &p.total)
			return p, err
		})
	if err != nil {
		return nil, err
	}

	n := len(points)
	times, tx, rx, total := make([]time.Time, n), make([]int64, n), make([]int64, n), make([]int64, n)
	for i, p := range points {
		times[i], tx[i], rx[i], total[i] = p.time.UTC(), p.tx, p.rx, p.total
	}
	frame := data.NewFrame("fleet_usage",
		timeField(times),
		field("tx_bytes", "Tx", unitBytes, tx),
		field("rx_bytes", "Rx", unitBytes, rx),
		field("total_bytes", "Total", unitBytes, total),
	).SetMeta(newMeta(data.FrameTypeTimeSeriesWide, sql))
	return truncated(data.Frames{frame}, cut, d.settings.MaxRows), nil
}
