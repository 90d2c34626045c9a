package dashboards_test

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/routerlogger/routerlogger/grafana-plugin/pkg/plugin"
)

// defaultInterval stands in for the interval Grafana computes for a panel
// without a minimum interval on a one-day range.
const defaultInterval = 5 * time.Minute

// TestQueries_RunOnFixtureDay runs every dashboard target, variable query,
// annotation query and alert query through the plugin's QueryData against a
// database holding the fixture day, and requires each to answer without
// error and with at least one frame that has rows.
//
// Dashboard queries run over the fixture day, 2025-03-14 UTC, whatever
// relative time a panel overrides (today, month to date, 30 days): those
// ranges all contain the day when it is today. $router is replaced by
// 6000000001, as the frontend expands it, and by "$__all", the All value.
// Alert queries run over their relative time range with the datasource's
// clock at the end of the fixture day. None of them may answer "no rows":
// alert_router_offline has one row per router, alert_fleet_silent and
// alert_reject_rate a number (the last 15 minutes hold readings), and
// alert_slow_queries a count, zero when nothing is slow.
//
// Then it checks that every field a panel names (in overrides, data links,
// stat field selections, table sorting and transformations) matches a field
// of the frames its targets answer, comparing the display name or the
// column name as Grafana does for that reference, so that a renamed column
// or a column name where Grafana wants the display name cannot silently
// empty a panel.
func TestQueries_RunOnFixtureDay(t *testing.T) {
	ds := newFixtureDatasource(t, loadFixtureDay(t))
	queries := allQueries(t)

	for _, router := range []string{fixtureRouter, "$__all"} {
		t.Run("router="+router, func(t *testing.T) {
			for _, q := range queries {
				t.Run(q.where+"/"+fmt.Sprint(q.model["refId"]), func(t *testing.T) {
					checkAnswer(t, runQuery(t, ds, q, router))
				})
			}
		})
	}

	for _, d := range loadDashboards(t) {
		for _, p := range d.allPanels() {
			t.Run("fields/"+d.file+"/"+p.Title, func(t *testing.T) {
				checkFieldRefs(t, ds, d, p)
			})
		}
	}
}

// checkFieldRefs runs the panel's targets and requires every field the
// panel refers to to match a field of their frames the way Grafana matches
// it: mostly by display name (displayNameFromDS, not the column name).
func checkFieldRefs(t *testing.T, ds *plugin.Datasource, d *dashboard, p panel) {
	t.Helper()

	var frames data.Frames
	for _, tg := range p.Targets {
		q := query{where: d.file, kind: "target", model: tg, interval: p.Interval}
		frames = append(frames, runQuery(t, ds, q, fixtureRouter).Frames...)
	}

	for _, problem := range unmatchedRefs(d.rawPanel(p.ID), panelFields(frames)) {
		t.Error(problem)
	}
}

// newFixtureDatasource makes the plugin's datasource for the database at
// dsn, connecting as the Grafana login role, without a cache, with its
// clock at the end of the fixture day.
func newFixtureDatasource(t *testing.T, dsn string) *plugin.Datasource {
	t.Helper()

	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string]any{
		"host": cfg.Host + ":" + strconv.Itoa(int(cfg.Port)), "database": cfg.Database,
		"user": grafanaRole, "sslmode": "disable", "cacheTTLSeconds": 0,
	}
	raw, err := json.Marshal(settings)
	if err != nil {
		t.Fatal(err)
	}

	ds, err := plugin.New(t.Context(), backend.DataSourceInstanceSettings{
		UID: dsUID, Name: "RouterLogger", Type: dsType, JSONData: raw,
		DecryptedSecureJSONData: map[string]string{"password": cfg.Password},
	}, plugin.Options{Now: func() time.Time { return fixtureDayEnd }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ds.Dispose)
	return ds
}

// runQuery sends q to ds the way Grafana would, with $router set to router.
func runQuery(t *testing.T, ds *plugin.Datasource, q query, router string) backend.DataResponse {
	t.Helper()

	model, err := json.Marshal(substitute(q.model, "$router", router))
	if err != nil {
		t.Fatal(err)
	}
	dq := backend.DataQuery{
		RefID:         fmt.Sprint(q.model["refId"]),
		QueryType:     fmt.Sprint(q.model["queryType"]),
		JSON:          model,
		TimeRange:     backend.TimeRange{From: fixtureDayStart, To: fixtureDayEnd},
		Interval:      panelInterval(t, q.interval),
		MaxDataPoints: 1000,
	}
	if q.kind == "alert" {
		dq.TimeRange = backend.TimeRange{
			From: fixtureDayEnd.Add(-time.Duration(q.relative[0]) * time.Second),
			To:   fixtureDayEnd.Add(-time.Duration(q.relative[1]) * time.Second),
		}
		dq.Interval = time.Minute
	}

	resp, err := ds.QueryData(t.Context(), &backend.QueryDataRequest{
		PluginContext: backend.PluginContext{
			DataSourceInstanceSettings: &backend.DataSourceInstanceSettings{UID: dsUID},
		},
		Queries: []backend.DataQuery{dq},
	})
	if err != nil {
		t.Fatalf("QueryData: %v", err)
	}
	r, ok := resp.Responses[dq.RefID]
	if !ok {
		t.Fatalf("no response for refId %s", dq.RefID)
	}
	return r
}

// checkAnswer requires a response without error holding a frame with rows.
func checkAnswer(t *testing.T, r backend.DataResponse) {
	t.Helper()

	if r.Error != nil {
		t.Fatalf("query failed: %v", r.Error)
	}
	for _, f := range r.Frames {
		if rows, err := f.RowLen(); err == nil && rows > 0 {
			return
		}
	}
	t.Errorf("no frame with rows among %d frames: %s", len(r.Frames), describeFrames(r.Frames))
}

// describeFrames names each frame's fields, for failure messages.
func describeFrames(frames data.Frames) string {
	var parts []string
	for _, f := range frames {
		var names []string
		for _, fl := range f.Fields {
			names = append(names, fl.Name)
		}
		parts = append(parts, fmt.Sprintf("%q%v", f.Name, names))
	}
	return strings.Join(parts, ", ")
}

// substitute returns a copy of v with every string equal to from replaced
// by to, the way Grafana expands a single-value variable.
func substitute(v any, from, to string) any {
	switch v := v.(type) {
	case string:
		if v == from {
			return to
		}
		return v
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = substitute(e, from, to)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = substitute(e, from, to)
		}
		return out
	}
	return v
}

// panelInterval parses a panel's minimum interval, such as 1h or 1d.
func panelInterval(t *testing.T, s string) time.Duration {
	t.Helper()

	if s == "" {
		return defaultInterval
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil {
			t.Fatalf("panel interval %q: %v", s, err)
		}
		return time.Duration(n) * 24 * time.Hour
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		t.Fatalf("panel interval %q: %v", s, err)
	}
	return d
}
