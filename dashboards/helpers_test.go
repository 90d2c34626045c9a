package dashboards_test

import (
	"encoding/json"
	"io/fs"
	"path"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/routerlogger/routerlogger/dashboards"
)

// Our datasource, as every panel, target, variable and annotation must name it.
const (
	dsType = "routerlogger-fleet-datasource"
	dsUID  = "routerlogger"
	// exprUID is the datasource uid of Grafana's server-side expressions.
	exprUID = "__expr__"
)

// dsRef is a datasource reference in a dashboard or query model.
type dsRef struct {
	Type string `json:"type" yaml:"type"`
	UID  string `json:"uid" yaml:"uid"`
}

// dashboard is the part of a dashboard JSON the tests look at.
type dashboard struct {
	file string
	raw  map[string]any

	UID           string `json:"uid"`
	Title         string `json:"title"`
	SchemaVersion int    `json:"schemaVersion"`
	Time          struct {
		From string `json:"from"`
		To   string `json:"to"`
	} `json:"time"`
	Panels     []panel `json:"panels"`
	Templating struct {
		List []variable `json:"list"`
	} `json:"templating"`
	Annotations struct {
		List []annotation `json:"list"`
	} `json:"annotations"`
}

type panel struct {
	ID         int              `json:"id"`
	Type       string           `json:"type"`
	Title      string           `json:"title"`
	Datasource *dsRef           `json:"datasource"`
	Interval   string           `json:"interval"` // the minimum interval, such as 1h
	Targets    []map[string]any `json:"targets"`
	Panels     []panel          `json:"panels"` // the panels of a collapsed row
}

type variable struct {
	Name       string         `json:"name"`
	Type       string         `json:"type"`
	Datasource *dsRef         `json:"datasource"`
	Query      map[string]any `json:"query"`
	Multi      bool           `json:"multi"`
	IncludeAll bool           `json:"includeAll"`
}

type annotation struct {
	Name       string         `json:"name"`
	Datasource *dsRef         `json:"datasource"`
	Enable     bool           `json:"enable"`
	Target     map[string]any `json:"target"`
}

// query is one datasource query found in a dashboard or an alert rule.
type query struct {
	where    string         // dashboard file and panel, for messages
	kind     string         // target, variable, annotation or alert
	model    map[string]any // the query JSON as the plugin receives it
	interval string         // the panel's minimum interval, if any
	// relative is the alert query's time range, in seconds before now.
	relative [2]int
}

// allPanels returns the dashboard's panels, those in collapsed rows included.
func (d *dashboard) allPanels() []panel {
	var out []panel
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			out = append(out, p)
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return out
}

// queries returns every panel target, variable query and annotation target.
func (d *dashboard) queries() []query {
	var out []query
	for _, p := range d.allPanels() {
		for _, t := range p.Targets {
			out = append(out, query{where: d.file + ": panel " + p.Title, kind: "target",
				model: t, interval: p.Interval})
		}
	}
	for _, v := range d.Templating.List {
		if v.Query != nil {
			out = append(out, query{where: d.file + ": variable " + v.Name, kind: "variable",
				model: v.Query})
		}
	}
	for _, a := range d.Annotations.List {
		if a.Target != nil {
			out = append(out, query{where: d.file + ": annotation " + a.Name, kind: "annotation",
				model: a.Target})
		}
	}
	return out
}

// loadDashboards parses every json/*.json file of the package.
func loadDashboards(t *testing.T) []*dashboard {
	t.Helper()

	names, err := fs.Glob(dashboards.Files, "json/*.json")
	if err != nil || len(names) == 0 {
		t.Fatalf("no dashboards in json/ (%v)", err)
	}
	var out []*dashboard
	for _, name := range names {
		raw, err := fs.ReadFile(dashboards.Files, name)
		if err != nil {
			t.Fatal(err)
		}
		d := &dashboard{file: path.Base(name)}
		if err := json.Unmarshal(raw, d); err != nil {
			t.Fatalf("%s is not a valid dashboard JSON: %v", name, err)
		}
		if err := json.Unmarshal(raw, &d.raw); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out = append(out, d)
	}
	return out
}

// alertFile is Grafana's alert rule provisioning format, apiVersion 1.
type alertFile struct {
	APIVersion int          `yaml:"apiVersion"`
	Groups     []alertGroup `yaml:"groups"`
}

type alertGroup struct {
	OrgID    int         `yaml:"orgId"`
	Name     string      `yaml:"name"`
	Folder   string      `yaml:"folder"`
	Interval string      `yaml:"interval"`
	Rules    []alertRule `yaml:"rules"`
}

type alertRule struct {
	UID          string            `yaml:"uid"`
	Title        string            `yaml:"title"`
	Condition    string            `yaml:"condition"`
	Data         []alertQuery      `yaml:"data"`
	For          string            `yaml:"for"`
	NoDataState  string            `yaml:"noDataState"`
	ExecErrState string            `yaml:"execErrState"`
	Labels       map[string]string `yaml:"labels"`
	Annotations  map[string]string `yaml:"annotations"`
	DashboardUID string            `yaml:"dashboardUid"`
	PanelID      int               `yaml:"panelId"`
}

type alertQuery struct {
	RefID             string `yaml:"refId"`
	QueryType         string `yaml:"queryType"`
	RelativeTimeRange struct {
		From int `yaml:"from"`
		To   int `yaml:"to"`
	} `yaml:"relativeTimeRange"`
	DatasourceUID string         `yaml:"datasourceUid"`
	Model         map[string]any `yaml:"model"`
}

// loadAlertRules parses the alert rule provisioning file.
func loadAlertRules(t *testing.T) alertFile {
	t.Helper()

	var f alertFile
	readYAML(t, dashboards.AlertRules, &f)
	if len(f.Groups) == 0 {
		t.Fatalf("%s has no rule groups", dashboards.AlertRules)
	}
	return f
}

// readYAML decodes the embedded file name into v, refusing unknown fields.
func readYAML(t *testing.T, name string, v any) {
	t.Helper()

	f, err := dashboards.Files.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// alertQueries returns the datasource queries (not the expressions) of
// every alert rule.
func alertQueries(f alertFile) []query {
	var out []query
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			for _, q := range r.Data {
				if q.DatasourceUID == dsUID {
					out = append(out, query{where: "alert rule " + r.UID, kind: "alert",
						model:    q.Model,
						relative: [2]int{q.RelativeTimeRange.From, q.RelativeTimeRange.To}})
				}
			}
		}
	}
	return out
}
