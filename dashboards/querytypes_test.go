package dashboards_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/routerlogger/routerlogger/grafana-plugin/pkg/plugin"
)

// queryKeys are the properties of a query model that Grafana or the
// dashboard sets and no query type declares as an option.
var queryKeys = []string{"refId", "datasource", "queryType", "hide", "key",
	"intervalMs", "maxDataPoints"}

// kindsBy lists the query kinds each place may use: variables list values,
// annotations are events, alert rules threshold numbers, panels show
// anything but alert numbers.
var kindsBy = map[string][]string{
	"target":     {plugin.KindTimeSeries, plugin.KindTable, plugin.KindRaw},
	"variable":   {plugin.KindVariable},
	"annotation": {plugin.KindTable},
	"alert":      {plugin.KindAlert},
}

// allQueries returns every dashboard and alert rule query.
func allQueries(t *testing.T) []query {
	t.Helper()

	var out []query
	for _, d := range loadDashboards(t) {
		out = append(out, d.queries()...)
	}
	return append(out, alertQueries(loadAlertRules(t))...)
}

// TestQueries_KnownTypes checks every dashboard and alert query against
// the plugin's query-type table: its queryType is in the table, of a kind
// that fits where it is used, and every other property is one of the
// type's options with a value of the option's type and allowed values.
func TestQueries_KnownTypes(t *testing.T) {
	types := map[string]plugin.QueryType{}
	for _, qt := range plugin.QueryTypes() {
		types[qt.Name] = qt
	}

	for _, q := range allQueries(t) {
		name, _ := q.model["queryType"].(string)
		t.Run(q.where+"/"+fmt.Sprint(q.model["refId"]), func(t *testing.T) {
			qt, ok := types[name]
			if !ok {
				t.Fatalf("queryType %q is not in the plugin's table", name)
			}
			if !slices.Contains(kindsBy[q.kind], qt.Kind) {
				t.Errorf("a %s query of type %s (kind %s): want a kind in %v",
					q.kind, name, qt.Kind, kindsBy[q.kind])
			}
			for key, v := range q.model {
				if slices.Contains(queryKeys, key) {
					continue
				}
				if err := checkOption(qt, key, v); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// checkOption checks one option value against the query type's table.
func checkOption(qt plugin.QueryType, key string, v any) error {
	i := slices.IndexFunc(qt.Options, func(o plugin.OptionDoc) bool { return o.Name == key })
	if i < 0 {
		return fmt.Errorf("%s has no option %q", qt.Name, key)
	}
	opt := qt.Options[i]

	var texts []string
	switch opt.Type {
	case "number":
		if _, ok := asNumber(v); !ok {
			return fmt.Errorf("%s: %v is not a number", key, v)
		}
		return nil
	case "string":
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("%s: %v is not a string", key, v)
		}
		texts = []string{s}
	case "string[]":
		list, ok := v.([]any)
		for _, e := range list {
			s, isText := e.(string)
			ok = ok && isText
			texts = append(texts, s)
		}
		if !ok {
			return fmt.Errorf("%s: %v is not a list of strings", key, v)
		}
	default:
		return fmt.Errorf("%s: the table gives the unknown option type %q", key, opt.Type)
	}

	for _, s := range texts {
		if len(opt.Values) > 0 && !slices.Contains(opt.Values, s) {
			return fmt.Errorf("%s: %q is not one of %v", key, s, opt.Values)
		}
	}
	return nil
}

// asNumber returns v as a float64 when JSON or YAML decoded a number.
func asNumber(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int:
		return float64(n), true
	}
	return 0, false
}
