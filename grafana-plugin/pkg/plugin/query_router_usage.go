package plugin

import (
	"context"
	"fmt"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/jackc/pgx/v5"
)

// routerUsageSQL sums one metric column (the first %s, from the fixed
// metric map) of a per-router rollup view (the second) into buckets.
const routerUsageSQL = `SELECT serial, name, date_bin($3::interval, bucket, $4) AS time,
       sum(%s)::bigint
FROM %s
WHERE bucket > $1 AND bucket < $2
  AND (cardinality($5::text[]) = 0 OR serial = ANY($5))
GROUP BY serial, name, 3
ORDER BY serial, 3`

// routerUsageOptions are the options of router_usage.
type routerUsageOptions struct {
	routerFilter
	usageMetric
}

func (o *routerUsageOptions) normalize() error {
	if err := o.routerFilter.normalize(); err != nil {
		return err
	}
	return o.usageMetric.normalize()
}

// routerPoint is one bucket of one router's series.
type routerPoint struct {
	serial string
	name   *string
	time   time.Time
	value  int64
}

// runRouterUsage answers router_usage: one time series per router, with
// serial and name labels.
func runRouterUsage(ctx context.Context, d *Datasource,
	r request[routerUsageOptions]) (data.Frames, error) {
	ru, g := usageGrid(r.DataQuery)
	col := r.Opts.column()
	sql := fmt.Sprintf(routerUsageSQL, col, ru.routerView)
	args := []any{ru.overlapStart(g.from), g.to, g.interval(), binOrigin, r.Opts.serials()}

	points, cut, err := selectAll(ctx, d, sql, args,
		func(row pgx.CollectableRow) (routerPoint, error) {
			var p routerPoint
			err := row.Scan(&p.serial, &p.name, &p.time, &p.value)
			return p, err
		})
	if err != nil {
		return nil, err
	}

	var frames data.Frames
	for i := 0; i < len(points); {
		j := i
		for j < len(points) && points[j].serial == points[i].serial {
			j++
		}
		frames = append(frames, routerUsageFrame(points[i:j], col, sql))
		i = j
	}
	return truncated(frames, cut, d.settings.MaxRows), nil
}

// routerUsageFrame is the series of one router's points.
func routerUsageFrame(points []routerPoint, col, sql string) *data.Frame {
	serial, name := points[0].serial, labelName(points[0].serial, points[0].name)
	times, values := make([]time.Time, len(points)), make([]int64, len(points))
	for i, p := range points {
		times[i], values[i] = p.time.UTC(), p.value
	}
	value := data.NewField(col, data.Labels{"serial": serial, "name": name}, values)
	value.Config = &data.FieldConfig{DisplayNameFromDS: name, Unit: unitBytes}
	return data.NewFrame(serial, timeField(times), value).
		SetMeta(newMeta(data.FrameTypeTimeSeriesMulti, sql))
}
