package dashboards_test

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// minSchemaVersion is the dashboard schema of Grafana 11.0.
const minSchemaVersion = 39

// TestDashboards_Schema checks each dashboard's identity and layout: a
// unique uid Grafana accepts, a unique title, a current schema version and
// panels with unique ids that each query our datasource.
func TestDashboards_Schema(t *testing.T) {
	ds := loadDashboards(t)
	uids, titles := map[string]string{}, map[string]string{}

	for _, d := range ds {
		t.Run(d.file, func(t *testing.T) {
			if d.UID == "" || len(d.UID) > 40 || strings.ContainsAny(d.UID, " /?#") {
				t.Errorf("uid %q: want 1 to 40 characters without spaces, / ? or #", d.UID)
			}
			if other, dup := uids[d.UID]; dup {
				t.Errorf("uid %q is also the uid of %s", d.UID, other)
			}
			uids[d.UID] = d.file
			if other, dup := titles[d.Title]; dup || d.Title == "" {
				t.Errorf("title %q is empty or also the title of %s", d.Title, other)
			}
			titles[d.Title] = d.file

			if d.SchemaVersion < minSchemaVersion {
				t.Errorf("schemaVersion %d, want %d or newer", d.SchemaVersion, minSchemaVersion)
			}
			if d.Time.From == "" || d.Time.To == "" {
				t.Errorf("time range %+v: want from and to", d.Time)
			}
			checkPanels(t, d)
		})
	}
}

// checkPanels checks panel ids and that every non-row panel has targets.
func checkPanels(t *testing.T, d *dashboard) {
	t.Helper()

	ids := map[int]string{}
	for _, p := range d.allPanels() {
		if other, dup := ids[p.ID]; dup || p.ID <= 0 {
			t.Errorf("panel %q: id %d is not positive or also the id of %q", p.Title, p.ID, other)
		}
		ids[p.ID] = p.Title
		if p.Type == "row" {
			continue
		}
		if p.Title == "" || p.Type == "" {
			t.Errorf("panel %d: want a title and a type, got %q %q", p.ID, p.Title, p.Type)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no targets", p.Title)
		}
	}
}

// TestDashboards_Datasources walks every dashboard JSON and requires each
// datasource reference anywhere in it to be ours, by type and uid, and
// every panel, target and annotation to name one.
func TestDashboards_Datasources(t *testing.T) {
	for _, d := range loadDashboards(t) {
		t.Run(d.file, func(t *testing.T) {
			walkDatasources(d.raw, "$", func(at string, v any) {
				m, ok := v.(map[string]any)
				if !ok || m["type"] != dsType || m["uid"] != dsUID || len(m) != 2 {
					t.Errorf("%s: datasource %v, want {type: %s, uid: %s}", at, v, dsType, dsUID)
				}
			})

			for _, p := range d.allPanels() {
				ours := p.Datasource != nil && *p.Datasource == (dsRef{dsType, dsUID})
				if p.Type != "row" && !ours {
					t.Errorf("panel %q: datasource %v, want ours", p.Title, p.Datasource)
				}
				for _, tg := range p.Targets {
					if tg["datasource"] == nil {
						t.Errorf("panel %q target %v names no datasource", p.Title, tg["refId"])
					}
				}
			}
			for _, a := range d.Annotations.List {
				if a.Datasource == nil || *a.Datasource != (dsRef{dsType, dsUID}) {
					t.Errorf("annotation %q: datasource %v, want ours", a.Name, a.Datasource)
				}
			}
		})
	}
}

// walkDatasources calls f with every value stored under a "datasource" key.
func walkDatasources(v any, at string, f func(at string, v any)) {
	switch v := v.(type) {
	case map[string]any:
		for k, child := range v {
			if k == "datasource" {
				f(at+"."+k, child)
				continue
			}
			walkDatasources(child, at+"."+k, f)
		}
	case []any:
		for i, child := range v {
			walkDatasources(child, fmt.Sprintf("%s[%d]", at, i), f)
		}
	}
}

// TestDashboards_Targets checks the shape of every query a dashboard sends:
// a refId unique within its panel, a query type, and routers passed as
// ["$router"] as the frontend expects.
func TestDashboards_Targets(t *testing.T) {
	for _, d := range loadDashboards(t) {
		t.Run(d.file, func(t *testing.T) {
			for _, p := range d.allPanels() {
				refs := map[string]bool{}
				for _, tg := range p.Targets {
					ref, _ := tg["refId"].(string)
					if ref == "" || refs[ref] {
						t.Errorf("panel %q: refId %q is empty or repeated", p.Title, ref)
					}
					refs[ref] = true
				}
			}
			for _, q := range d.queries() {
				checkQueryShape(t, q)
			}
		})
	}
}

// checkQueryShape checks what every query model must carry.
func checkQueryShape(t *testing.T, q query) {
	t.Helper()

	if qt, _ := q.model["queryType"].(string); qt == "" {
		t.Errorf("%s: query %v has no queryType", q.where, q.model["refId"])
	}
	if ref, _ := q.model["refId"].(string); ref == "" {
		t.Errorf("%s: query has no refId", q.where)
	}
	if r, ok := q.model["routers"]; ok {
		if rs, _ := r.([]any); len(rs) != 1 || rs[0] != "$router" {
			t.Errorf("%s: routers %v, want [\"$router\"]", q.where, r)
		}
	}
}

// TestDashboards_RouterVariable requires every dashboard that uses $router
// to define it as the contract says: a query variable on our datasource
// with query type variable listing the routers, multi-value, with All.
func TestDashboards_RouterVariable(t *testing.T) {
	for _, d := range loadDashboards(t) {
		t.Run(d.file, func(t *testing.T) {
			var router *variable
			for i, v := range d.Templating.List {
				if v.Datasource == nil || *v.Datasource != (dsRef{dsType, dsUID}) {
					t.Errorf("variable %q: datasource %v, want ours", v.Name, v.Datasource)
				}
				if v.Name == "router" {
					router = &d.Templating.List[i]
				}
			}
			uses := strings.Contains(fmt.Sprint(d.raw["panels"], d.raw["annotations"]), "$router")
			if router == nil {
				if uses {
					t.Fatal("uses $router but defines no router variable")
				}
				return
			}

			if router.Type != "query" || !router.Multi || !router.IncludeAll {
				t.Errorf("router variable: type %q multi %v includeAll %v, want query, true, true",
					router.Type, router.Multi, router.IncludeAll)
			}
			if router.Query["queryType"] != "variable" || router.Query["variable"] != "routers" {
				t.Errorf("router variable query %v, want queryType variable, variable routers",
					router.Query)
			}
		})
	}
}

// TestDashboards_Annotations requires the annotations to be router events
// read through our datasource.
func TestDashboards_Annotations(t *testing.T) {
	for _, d := range loadDashboards(t) {
		for _, a := range d.Annotations.List {
			t.Run(d.file+"/"+a.Name, func(t *testing.T) {
				if !a.Enable || a.Target["queryType"] != "events" {
					t.Errorf("enable %v, target %v: want an enabled events query", a.Enable, a.Target)
				}
			})
		}
	}
}

// dashboardLink matches a link to a dashboard by uid in a data or panel link.
var dashboardLink = regexp.MustCompile(`/d/([A-Za-z0-9_-]+)`)

// TestDashboards_Links requires links between dashboards to name existing
// uids, and alert rules to link to existing dashboards and panels.
func TestDashboards_Links(t *testing.T) {
	ds := loadDashboards(t)
	panels := map[string][]int{}
	for _, d := range ds {
		for _, p := range d.allPanels() {
			panels[d.UID] = append(panels[d.UID], p.ID)
		}
	}

	for _, d := range ds {
		for _, m := range dashboardLink.FindAllStringSubmatch(fmt.Sprint(d.raw), -1) {
			if _, ok := panels[m[1]]; !ok {
				t.Errorf("%s links to dashboard %s, which does not exist", d.file, m[1])
			}
		}
	}
	for _, g := range loadAlertRules(t).Groups {
		for _, r := range g.Rules {
			if r.DashboardUID == "" && r.PanelID == 0 {
				continue
			}
			if !slices.Contains(panels[r.DashboardUID], r.PanelID) {
				t.Errorf("alert rule %s links to dashboard %q panel %d, which does not exist",
					r.UID, r.DashboardUID, r.PanelID)
			}
		}
	}
}

// TestDashboards_Coverage checks that each dashboard the operators need
// exists and shows what it is for, by the query types of its panels.
func TestDashboards_Coverage(t *testing.T) {
	byUID := map[string]*dashboard{}
	for _, d := range loadDashboards(t) {
		byUID[d.UID] = d
	}

	tests := []struct {
		uid   string
		types []string
	}{
		{"routerlogger-fleet-overview", []string{"router_status", "fleet_usage", "top_routers"}},
		{"routerlogger-router-detail", []string{"router_usage", "signal", "router_status", "events"}},
		{"routerlogger-data-usage", []string{"router_usage", "fleet_usage"}},
		{"routerlogger-signal-quality", []string{"signal"}},
		{"routerlogger-ingest-health", []string{"ingest_health"}},
		{"routerlogger-sync-jobs", []string{"sync_job_health", "sync_runs", "locks", "oauth_state",
			"rms_quota", "usage_reconciliation"}},
		{"routerlogger-guest-wifi", []string{"guest_sessions", "guest_session_summary",
			"guest_property_summary", "dlq_depth", "dlq_events", "portal_inbox"}},
	}
	for _, tt := range tests {
		t.Run(tt.uid, func(t *testing.T) {
			d, ok := byUID[tt.uid]
			if !ok {
				t.Fatalf("no dashboard with uid %s", tt.uid)
			}
			var have []string
			for _, q := range d.queries() {
				have = append(have, fmt.Sprint(q.model["queryType"]))
			}
			for _, want := range tt.types {
				if !slices.Contains(have, want) {
					t.Errorf("no %s query (has %v)", want, have)
				}
			}
		})
	}
}
