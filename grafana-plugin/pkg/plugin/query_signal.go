package plugin

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/jackc/pgx/v5"
)

// signalSQL averages the chosen radio columns (%s, from [signalMetrics]
// only) of router_signal per router and bucket. Each value goes through
// numeric first, so a stored real such as 5.4 counts as 5.4.
const signalSQL = `SELECT serial, name, date_bin($3::interval, time, $4) AS bucket, %s
FROM router_signal
WHERE time >= $1 AND time < $2
  AND (cardinality($5::text[]) = 0 OR serial = ANY($5))
GROUP BY serial, name, bucket
ORDER BY serial, bucket`

// signalMetric is a radio column with its display name and unit.
type signalMetric struct {
	column, display, unit string
}

// signalMetrics are the radio columns, in the order frames list them.
var signalMetrics = []signalMetric{
	{"rsrp", "RSRP", unitDBm},
	{"rsrq", "RSRQ", unitDB},
	{"sinr", "SINR", unitDB},
	{"rssi", "RSSI", unitDBm},
}

// signalOptions are the options of signal.
type signalOptions struct {
	routerFilter
	Metrics []string `json:"metrics"`

	chosen []signalMetric
}

func (o *signalOptions) normalize() error {
	if err := o.routerFilter.normalize(); err != nil {
		return err
	}
	for _, m := range o.Metrics {
		m = strings.ToLower(strings.TrimSpace(m))
		if !slices.ContainsFunc(signalMetrics, func(s signalMetric) bool { return s.column == m }) {
			return fmt.Errorf("metrics: %q is not one of rsrp, rsrq, sinr, rssi", m)
		}
	}
	for _, s := range signalMetrics {
		if len(o.Metrics) == 0 || slices.ContainsFunc(o.Metrics, func(m string) bool {
			return strings.EqualFold(strings.TrimSpace(m), s.column)
		}) {
			o.chosen = append(o.chosen, s)
		}
	}
	return nil
}

var (
	signalMetricsDoc = OptionDoc{
		Name: "metrics", Type: "string[]", Default: []string{"rsrp", "rsrq", "sinr", "rssi"},
		Values:      []string{"rsrp", "rsrq", "sinr", "rssi"},
		Description: "which radio values; empty means all",
	}
)

// signalRow is one bucket of one router: the averages of the chosen metrics.
type signalRow struct {
	serial string
	name   *string
	time   time.Time
	values []*float64
}

// runSignal answers signal: one time series per router and chosen
// metric, averaged per bucket, labelled by serial and name.
func runSignal(ctx context.Context, d *Datasource, r request[signalOptions]) (data.Frames, error) {
	g := newGrid(r.DataQuery, time.Second)
	cols := make([]string, len(r.Opts.chosen))
	for i, m := range r.Opts.chosen {
		cols[i] = fmt.Sprintf("round(avg(%s::numeric), 2)::float8 AS %s", m.column, m.column)
	}
	sql := fmt.Sprintf(signalSQL, strings.Join(cols, ", "))
	args := []any{g.from, g.to, g.interval(), binOrigin, r.Opts.serials()}

	rows, cut, err := selectAll(ctx, d, sql, args, func(row pgx.CollectableRow) (signalRow, error) {
		s := signalRow{values: make([]*float64, len(cols))}
		dest := []any{&s.serial, &s.name, &s.time}
		for i := range s.values {
			dest = append(dest, &s.values[i])
		}
		err := row.Scan(dest...)
		return s, err
	})
	if err != nil {
		return nil, err
	}

	var frames data.Frames
	for i := 0; i < len(rows); {
		j := i
		for j < len(rows) && rows[j].serial == rows[i].serial {
			j++
		}
		for k, m := range r.Opts.chosen {
			frames = append(frames, signalFrame(rows[i:j], k, m, sql))
		}
		i = j
	}
	return truncated(frames, cut, d.settings.MaxRows), nil
}

// signalFrame is the series of metric k of one router's rows.
func signalFrame(rows []signalRow, k int, m signalMetric, sql string) *data.Frame {
	serial, name := rows[0].serial, labelName(rows[0].serial, rows[0].name)
	times, values := make([]time.Time, len(rows)), make([]*float64, len(rows))
	for i, r := range rows {
		times[i], values[i] = r.time.UTC(), r.values[k]
	}
	value := data.NewField(m.column, data.Labels{"serial": serial, "name": name}, values)
	value.Config = &data.FieldConfig{DisplayNameFromDS: name + " " + m.display, Unit: m.unit}
	return data.NewFrame(serial+" "+m.column, timeField(times), value).
		SetMeta(newMeta(data.FrameTypeTimeSeriesMulti, sql))
}
