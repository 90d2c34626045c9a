package plugin

import (
	"context"
	"fmt"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/jackc/pgx/v5"
)

// topRoutersSQL totals a per-router rollup view (%s) over the range and
// orders by one metric column (%s, from the fixed metric map).
const topRoutersSQL = `SELECT serial, name, sum(tx_bytes)::bigint, sum(rx_bytes)::bigint,
       sum(total_bytes)::bigint AS total_bytes
FROM %s
WHERE bucket > $1 AND bucket < $2
GROUP BY serial, name
ORDER BY sum(%s) DESC, serial`

// The bounds and default of top_routers' limit.
const (
	defaultTopLimit = 10
	maxTopLimit     = 1000
)

// topRoutersOptions are the options of top_routers.
type topRoutersOptions struct {
	Limit *int `json:"limit"`
	usageMetric
}

func (o *topRoutersOptions) normalize() error {
	if o.Limit == nil {
		n := defaultTopLimit
		o.Limit = &n
	}
	if *o.Limit < 1 || *o.Limit > maxTopLimit {
		return fmt.Errorf("limit %d: out of range (allowed 1 to %d)", *o.Limit, maxTopLimit)
	}
	return o.usageMetric.normalize()
}

var topLimitDoc = OptionDoc{
	Name: "limit", Type: "number", Default: defaultTopLimit,
	Description: fmt.Sprintf("how many routers, 1 to %d", maxTopLimit),
}

type routerTotal struct {
	serial        string
	name          *string
	tx, rx, total int64
}

// runTopRouters answers top_routers: a table of the routers with the
// largest usage over the range, largest first.
func runTopRouters(ctx context.Context, d *Datasource,
	r request[topRoutersOptions]) (data.Frames, error) {
	ru := totalsRollup(r.TimeRange)
	sql := fmt.Sprintf(topRoutersSQL, ru.routerView, r.Opts.column())
	args := []any{ru.overlapStart(r.TimeRange.From), r.TimeRange.To}
	limit := min(*r.Opts.Limit, d.settings.MaxRows)

	rows, cut, err := selectMax(ctx, d, limit, sql, args,
		func(row pgx.CollectableRow) (routerTotal, error) {
			var t routerTotal
			err := row.Scan(&t.serial, &t.name, &t.tx, &t.rx, &t.total)
			return t, err
		})
	if err != nil {
		return nil, err
	}

	n := len(rows)
	serials, names := make([]string, n), make([]*string, n)
	tx, rx, total := make([]int64, n), make([]int64, n), make([]int64, n)
	for i, t := range rows {
		serials[i], names[i], tx[i], rx[i], total[i] = t.serial, t.name, t.tx, t.rx, t.total
	}
	frame := data.NewFrame("top_routers",
		field("serial", "Serial", "", serials),
		field("name", "Name", "", names),
		field("tx_bytes", "Tx", unitBytes, tx),
		field("rx_bytes", "Rx", unitBytes, rx),
		field("total_bytes", "Total", unitBytes, total),
	).SetMeta(newMeta(data.FrameTypeTable, sql))
	// More routers than asked for is the point of a top list, not a cut.
	return truncated(data.Frames{frame}, cut && limit < *r.Opts.Limit, d.settings.MaxRows), nil
}
