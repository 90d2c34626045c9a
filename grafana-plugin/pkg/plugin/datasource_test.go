package plugin_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/grafana/grafana-plugin-sdk-go/experimental"

	"github.com/routerlogger/routerlogger/grafana-plugin/pkg/plugin"
)

// goldenDir holds one golden response per case, written with -update.
const goldenDir = "testdata/golden"

// goldenCase is one query of the golden test.
type goldenCase struct {
	name      string // the golden file, without .jsonc
	queryType string
	opts      string
	interval  time.Duration
}

// goldenCases covers every query type of the table at least once.
var goldenCases = []goldenCase{
	{"fleet_usage", "fleet_usage", `{}`, time.Hour},
	{"fleet_usage_daily", "fleet_usage", `{}`, 24 * time.Hour},
	{"router_usage", "router_usage", `{"routers": ["$__all"]}`, time.Hour},
	{"router_usage_tx_3h", "router_usage", `{"routers": ["6000000001"], "metric": "tx"}`, 3 * time.Hour},
	{"top_routers", "top_routers", `{"limit": 2, "metric": "rx"}`, time.Hour},
	{"router_status", "router_status", `{}`, time.Minute},
	{"signal", "signal", `{"routers": ["6000000001"]}`, time.Hour},
	{"signal_rsrp_6h", "signal", `{"metrics": ["rsrp"]}`, 6 * time.Hour},
	{"events", "events", `{}`, time.Minute},
	{"events_reboot", "events", `{"events": ["reboot"], "routers": ["6000000001"]}`, time.Minute},
	{"ingest_health", "ingest_health", `{}`, time.Hour},
	{"alert_router_offline", "alert_router_offline", `{}`, time.Minute},
	{"alert_fleet_silent", "alert_fleet_silent", `{}`, time.Minute},
	{"alert_reject_rate", "alert_reject_rate", `{"windowMinutes": 15}`, time.Minute},
	{"alert_slow_queries", "alert_slow_queries", `{"thresholdSeconds": 5}`, time.Minute},
	{"sync_runs", "sync_runs", `{}`, time.Minute},
	{"sync_runs_rms_partial", "sync_runs", `{"jobs": ["rms"], "statuses": ["partial", "running"]}`,
		time.Minute},
	{"sync_job_health", "sync_job_health", `{}`, time.Minute},
	{"locks", "locks", `{}`, time.Minute},
	{"guest_sessions", "guest_sessions", `{}`, 6 * time.Hour},
	{"guest_sessions_router", "guest_sessions", `{"routers": ["6000000001"]}`, 6 * time.Hour},
	{"guest_session_summary", "guest_session_summary", `{}`, time.Minute},
	{"guest_property_summary", "guest_property_summary", `{}`, time.Minute},
	{"dlq_depth", "dlq_depth", `{}`, time.Minute},
	{"dlq_events", "dlq_events", `{}`, time.Minute},
	{"portal_inbox", "portal_inbox", `{}`, time.Minute},
	{"alert_lock_held", "alert_lock_held", `{}`, time.Minute},
	{"alert_sync_overdue", "alert_sync_overdue", `{}`, time.Minute},
	{"alert_dlq_depth", "alert_dlq_depth", `{}`, time.Minute},
	{"alert_inbox_lag", "alert_inbox_lag", `{}`, time.Minute},
	{"oauth_state", "oauth_state", `{}`, time.Minute},
	{"alert_oauth_reauth", "alert_oauth_reauth", `{}`, time.Minute},
	{"rms_quota", "rms_quota", `{}`, time.Minute},
	{"usage_reconciliation", "usage_reconciliation", `{}`, time.Minute},
	{"usage_reconciliation_router", "usage_reconciliation", `{"routers": ["6000000002"]}`,
		time.Minute},
	{"alert_rms_quota", "alert_rms_quota", `{}`, time.Minute},
	{"raw_sql_table", "raw_sql", `{"format": "table", "rawSql": "SELECT serial, name, ` +
		`sum(total_bytes) AS total FROM router_usage_daily WHERE $__timeFilter(bucket) ` +
		`GROUP BY serial, name ORDER BY serial;"}`, time.Hour},
	{"raw_sql_time_series", "raw_sql", `{"format": "time_series", "rawSql": "SELECT ` +
		`$__timeGroupAlias(bucket, 6h), serial, sum(total_bytes) AS total FROM router_usage_hourly ` +
		`WHERE $__timeFilter(bucket) GROUP BY 1, 2"}`, time.Hour},
	{"variable_routers", "variable", `{"variable": "routers"}`, time.Minute},
	{"variable_properties", "variable", `{"variable": "properties"}`, time.Minute},
}

// TestDatasource_QueryData_Golden runs every query type over the fixture
// day and compares the responses with the golden files.
func TestDatasource_QueryData_Golden(t *testing.T) {
	t.Parallel()
	dsn := fixtureDB(t)
	ds := newDatasource(t, dsn, nil)

	covered := map[string]bool{}
	for _, c := range goldenCases {
		covered[c.queryType] = true
		t.Run(c.name, func(t *testing.T) {
			r := runQuery(t, ds, dataQuery("A", c.queryType, c.opts, c.interval))
			if r.Error != nil {
				t.Fatalf("per-query error: %v", r.Error)
			}
			experimental.CheckGoldenJSONResponse(t, goldenDir, c.name, &r, *update)
		})
	}
	for _, qt := range plugin.QueryTypes() {
		if !covered[qt.Name] {
			t.Errorf("query type %s has no golden case", qt.Name)
		}
	}
}

// TestDatasource_QueryData_UsageTotals checks the usage query types
// against the fixture's expected totals, per router and for the fleet, from
// hourly and daily rollups.
func TestDatasource_QueryData_UsageTotals(t *testing.T) {
	t.Parallel()
	ds := newDatasource(t, fixtureDB(t), nil)
	exp := expectedUsage(t)

	for _, interval := range []time.Duration{time.Hour, 24 * time.Hour} {
		t.Run("router_usage/"+interval.String(), func(t *testing.T) {
			for i, metric := range []string{"tx", "rx"} {
				for serial, want := range exp {
					q := dataQuery("A", "router_usage", `{"routers": ["`+serial+`"], "metric": "`+metric+`"}`, interval)
					got := sumField(t, mustFrames(t, ds, q), metric+"_bytes")
					if got[serial] != want[i] || len(got) != 1 {
						t.Errorf("%s %s: %v, want %d", serial, metric, got, want[i])
					}
				}
			}
		})
		t.Run("fleet_usage/"+interval.String(), func(t *testing.T) {
			frames := mustFrames(t, ds, dataQuery("A", "fleet_usage", `{}`, interval))
			var wantTx, wantRx int64
			for _, v := range exp {
				wantTx, wantRx = wantTx+v[0], wantRx+v[1]
			}
			tx, rx := sumField(t, frames, "tx_bytes")[""], sumField(t, frames, "rx_bytes")[""]
			total := sumField(t, frames, "total_bytes")[""]
			if tx != wantTx || rx != wantRx || total != wantTx+wantRx {
				t.Errorf("fleet tx %d rx %d total %d, want %d %d %d", tx, rx, total, wantTx, wantRx, wantTx+wantRx)
			}
		})
	}

	t.Run("top_routers", func(t *testing.T) {
		frames := mustFrames(t, ds, dataQuery("A", "top_routers", `{"metric": "total"}`, time.Hour))
		f := frames[0]
		var prev int64 = 1 << 62
		for i := range f.Rows() {
			serial := f.Fields[0].At(i).(string)
			tx, rx, total := f.Fields[2].At(i).(int64), f.Fields[3].At(i).(int64), f.Fields[4].At(i).(int64)
			if want := exp[serial]; tx != want[0] || rx != want[1] || total != tx+rx {
				t.Errorf("%s: tx %d rx %d total %d, want %d %d", serial, tx, rx, total, want[0], want[1])
			}
			if total > prev {
				t.Errorf("row %d: total %d after %d, want descending", i, total, prev)
			}
			prev = total
		}
	})
}

// TestDatasource_QueryData_Frames checks what every time series frame
// promises: a time field first, sorted, and units on the values.
func TestDatasource_QueryData_Frames(t *testing.T) {
	t.Parallel()
	ds := newDatasource(t, fixtureDB(t), nil)
	units := map[string]string{
		"tx_bytes": "bytes", "rx_bytes": "bytes", "total_bytes": "bytes",
		"rsrp": "dBm", "rssi": "dBm", "rsrq": "dB", "sinr": "dB", "reject_rate": "percentunit",
	}
	for _, c := range goldenCases {
		qt := c.queryType
		if qt != "fleet_usage" && qt != "router_usage" && qt != "signal" && qt != "ingest_health" {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			frames := mustFrames(t, ds, dataQuery("A", qt, c.opts, c.interval))
			if len(frames) == 0 {
				t.Fatal("no frames")
			}
			for _, f := range frames {
				checkTimeSeries(t, f, units)
			}
		})
	}
}

func checkTimeSeries(t *testing.T, f *data.Frame, units map[string]string) {
	t.Helper()
	if f.RefID != "A" || f.Meta == nil || !strings.HasPrefix(string(f.Meta.Type), "timeseries-") {
		t.Errorf("frame %s: refId %q meta %+v, want A and a timeseries type", f.Name, f.RefID, f.Meta)
	}
	if f.Fields[0].Type() != data.FieldTypeTime {
		t.Fatalf("frame %s: first field %s is %s, want time", f.Name, f.Fields[0].Name, f.Fields[0].Type())
	}
	for i := 1; i < f.Fields[0].Len(); i++ {
		if !f.Fields[0].At(i).(time.Time).After(f.Fields[0].At(i - 1).(time.Time)) {
			t.Errorf("frame %s: time %d not after time %d", f.Name, i, i-1)
		}
	}
	for _, fl := range f.Fields[1:] {
		want, ok := units[fl.Name]
		if ok && (fl.Config == nil || fl.Config.Unit != want) {
			t.Errorf("frame %s field %s: config %+v, want unit %s", f.Name, fl.Name, fl.Config, want)
		}
		if fl.Config == nil || fl.Config.DisplayNameFromDS == "" {
			t.Errorf("frame %s field %s: no display name", f.Name, fl.Name)
		}
	}
}

// TestDatasource_QueryData_Downsampling checks that the number of points
// follows the interval and MaxDataPoints.
func TestDatasource_QueryData_Downsampling(t *testing.T) {
	t.Parallel()
	ds := newDatasource(t, fixtureDB(t), nil)
	cases := []struct {
		name      string
		queryType string
		interval  time.Duration
		maxPoints int64
		want      int
	}{
		{"usage hourly", "fleet_usage", time.Hour, 1000, 24},
		{"usage 2h", "fleet_usage", 2 * time.Hour, 1000, 12},
		{"usage capped by max points", "fleet_usage", time.Minute, 6, 6},
		{"usage interval rounded up to hours", "fleet_usage", 90 * time.Minute, 1000, 12},
		{"usage daily", "fleet_usage", 24 * time.Hour, 1000, 1},
		{"signal 10m", "signal", 10 * time.Minute, 1000, 144},
		{"signal capped by max points", "signal", time.Second, 48, 48},
		{"ingest 30m", "ingest_health", 30 * time.Minute, 1000, 48},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := dataQuery("A", c.queryType, `{"routers": ["6000000001"], "metrics": ["rsrp"]}`, c.interval)
			q.MaxDataPoints = c.maxPoints
			frames := mustFrames(t, ds, q)
			if got := frames[0].Rows(); got != c.want {
				t.Errorf("%d points, want %d", got, c.want)
			}
		})
	}
}

// TestDatasource_QueryData_Errors checks that bad queries get a per-query
// error naming the problem, and that the other queries of the request are
// still answered.
func TestDatasource_QueryData_Errors(t *testing.T) {
	t.Parallel()
	ds := newDatasource(t, fixtureDB(t), nil)
	cases := []struct {
		name, queryType, opts, want string
	}{
		{"unknown type", "nope", `{}`, `queryType "nope": unknown`},
		{"bad metric", "router_usage", `{"metric": "both"}`, `metric "both": want total, tx or rx`},
		{"unexpanded variable", "router_usage", `{"routers": ["$router"]}`, `"$router" is a template variable`},
		{"wrong option type", "top_routers", `{"limit": "ten"}`, "limit: want int"},
		{"limit out of range", "top_routers", `{"limit": 0}`, "limit 0: out of range"},
		{"bad signal metric", "signal", `{"metrics": ["snr"]}`, `"snr" is not one of rsrp`},
		{"bad event", "events", `{"events": ["crash"]}`, `"crash" is not one of reboot`},
		{"bad window", "alert_reject_rate", `{"windowMinutes": 0}`, "windowMinutes 0: out of range"},
		{"bad status", "sync_runs", `{"statuses": ["done"]}`, `statuses: "done" is not one of ok`},
		{"unexpanded job", "sync_job_health", `{"jobs": ["$job"]}`, `"$job" is a template variable`},
		{"bad variable", "variable", `{"variable": "sims"}`, `variable "sims": want routers or properties`},
		{"empty raw sql", "raw_sql", `{"rawSql": "  ;"}`, "rawSql: empty"},
		{"bad format", "raw_sql", `{"rawSql": "SELECT 1", "format": "graph"}`, `format "graph"`},
	}
	queries := []backend.DataQuery{dataQuery("ok", "alert_fleet_silent", `{}`, time.Minute)}
	for i, c := range cases {
		queries = append(queries, dataQuery("q"+itoa(i), c.queryType, c.opts, time.Hour))
	}
	resp, err := ds.QueryData(context.Background(), &backend.QueryDataRequest{Queries: queries})
	if err != nil {
		t.Fatalf("QueryData: %v", err)
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := resp.Responses["q"+itoa(i)]
			if r.Error == nil || !strings.Contains(r.Error.Error(), c.want) {
				t.Errorf("error %v, want it to contain %q", r.Error, c.want)
			}
			if r.Status != backend.StatusBadRequest {
				t.Errorf("status %d, want 400", r.Status)
			}
		})
	}
	if ok := resp.Responses["ok"]; ok.Error != nil || len(ok.Frames) != 1 {
		t.Errorf("the good query of the request: %v, %d frames", ok.Error, len(ok.Frames))
	}
}

// TestDatasource_QueryData_BadSettings checks that a datasource with bad
// settings answers every query with the settings error.
func TestDatasource_QueryData_BadSettings(t *testing.T) {
	t.Parallel()
	s := backend.DataSourceInstanceSettings{JSONData: []byte(`{"maxOpenConns": 0}`)}
	ds := openDatasource(t, s)
	r := runQuery(t, ds, dataQuery("A", "fleet_usage", `{}`, time.Hour))
	want := "datasource settings: maxOpenConns 0: out of range (allowed 1 to 100)"
	if r.Error == nil || r.Error.Error() != want {
		t.Errorf("error %v, want %q", r.Error, want)
	}
}
