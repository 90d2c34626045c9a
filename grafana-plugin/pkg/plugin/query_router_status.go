package plugin

import (
	"context"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/jackc/pgx/v5"
)

// routerStatusSQL reads the latest reading of each router. Radio values
// go through numeric so that a stored real such as 5.4 reads as 5.4.
const routerStatusSQL = `SELECT serial, name, model, firmware, operator, network_type, last_seen,
       coalesce(last_seen >= $1::timestamptz - $2::interval, false) AS online,
       rsrp::numeric::float8, rsrq::numeric::float8, sinr::numeric::float8, rssi::numeric::float8
FROM router_latest
WHERE cardinality($3::text[]) = 0 OR serial = ANY($3)
ORDER BY serial`

// routerStatusOptions are the options of router_status.
type routerStatusOptions struct {
	routerFilter
}

type routerStatusRow struct {
	serial                                   string
	name, model, firmware, operator, netType *string
	lastSeen                                 *time.Time
	online                                   bool
	rsrp, rsrq, sinr, rssi                   *float64
}

// runRouterStatus answers router_status: a table of every router's latest
// reading, with online meaning a sample within offlineAfterMinutes.
func runRouterStatus(ctx context.Context, d *Datasource,
	r request[routerStatusOptions]) (data.Frames, error) {
	offline := d.settings.OfflineAfter()
	args := []any{d.now(), grid{width: offline}.interval(), r.Opts.serials()}

	rows, cut, err := selectAll(ctx, d, routerStatusSQL, args,
		func(row pgx.CollectableRow) (routerStatusRow, error) {
			var s routerStatusRow
			err := row.Scan(&s.serial, &s.name, &s.model, &s.firmware, &s.operator, &s.netType,
				&s.lastSeen, &s.online, &s.rsrp, &s.rsrq, &s.sinr, &s.rssi)
			return s, err
		})
	if err != nil {
		return nil, err
	}
	frame := routerStatusFrame(rows).SetMeta(newMeta(data.FrameTypeTable, routerStatusSQL))
	return truncated(data.Frames{frame}, cut, d.settings.MaxRows), nil
}

// routerStatusFrame builds the table of router_status.
func routerStatusFrame(rows []routerStatusRow) *data.Frame {
	n := len(rows)
	serial := make([]string, n)
	name, model, fw, op, nt := make([]*string, n), make([]*string, n), make([]*string, n),
		make([]*string, n), make([]*string, n)
	seen, online := make([]*time.Time, n), make([]bool, n)
	rsrp, rsrq, sinr, rssi := make([]*float64, n), make([]*float64, n), make([]*float64, n),
		make([]*float64, n)
	for i, s := range rows {
		serial[i], name[i], model[i], fw[i], op[i], nt[i] = s.serial, s.name, s.model, s.firmware,
			s.operator, s.netType
		if s.lastSeen != nil {
			t := s.lastSeen.UTC()
			seen[i] = &t
		}
		online[i] = s.online
		rsrp[i], rsrq[i], sinr[i], rssi[i] = s.rsrp, s.rsrq, s.sinr, s.rssi
	}
	return data.NewFrame("router_status",
		field("serial", "Serial", "", serial),
		field("name", "Name", "", name),
		field("model", "Model", "", model),
		field("firmware", "Firmware", "", fw),
		field("operator", "Operator", "", op),
		field("network_type", "Network", "", nt),
		field("last_seen", "Last seen", "", seen),
		field("online", "Online", "", online),
		field("rsrp", "RSRP", unitDBm, rsrp),
		field("rsrq", "RSRQ", unitDB, rsrq),
		field("sinr", "SINR", unitDB, sinr),
		field("rssi", "RSSI", unitDBm, rssi),
	)
}
