package plugin

import (
	"fmt"
	"slices"
	"strings"
)

// allRouters are the router values that mean every router: Grafana's
// "All" of a multi-value variable and a bare star.
var allRouters = []string{"$__all", "*"}

// maxRouterList bounds the routers option.
const maxRouterList = 5000

// routerFilter is the "routers" option: serials to keep, or every router
// when empty or when it holds [allRouters].
type routerFilter struct {
	Routers []string `json:"routers"`
}

// normalize trims the serials, drops blanks and duplicates and turns an
// "all" value into no filter. An unexpanded template variable, such as
// "$router", is an error: the frontend expands variables before the query
// reaches the backend.
func (f *routerFilter) normalize() error {
	if len(f.Routers) > maxRouterList {
		return fmt.Errorf("routers: %d serials, at most %d allowed", len(f.Routers), maxRouterList)
	}
	var out []string
	for _, r := range f.Routers {
		r = strings.TrimSpace(r)
		switch {
		case r == "":
			continue
		case slices.Contains(allRouters, r):
			f.Routers = nil
			return nil
		case strings.HasPrefix(r, "$"):
			return fmt.Errorf("routers: %q is a template variable that was not expanded; "+
				"pass serials, or [\"$__all\"] for every router", r)
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	f.Routers = out
	return nil
}

// serials returns the filter as a text[] parameter: empty means all.
func (f routerFilter) serials() []string {
	if f.Routers == nil {
		return []string{}
	}
	return f.Routers
}

// usageMetrics maps the "metric" option to its column.
var usageMetrics = map[string]string{
	"total": "total_bytes",
	"tx":    "tx_bytes",
	"rx":    "rx_bytes",
}

// usageMetric is the "metric" option of the usage queries.
type usageMetric struct {
	Metric string `json:"metric"`
}

func (m *usageMetric) normalize() error {
	m.Metric = strings.TrimSpace(m.Metric)
	if m.Metric == "" {
		m.Metric = "total"
	}
	if _, ok := usageMetrics[m.Metric]; !ok {
		return fmt.Errorf("metric %q: want total, tx or rx", m.Metric)
	}
	return nil
}

// column returns the metric's column name, from the fixed map only.
func (m usageMetric) column() string {
	return usageMetrics[m.Metric]
}

// noOptions is the options of query types that take none.
type noOptions struct{}

func (*noOptions) normalize() error { return nil }

// routersDoc and metricDoc describe the shared options for the editor.
var (
	routersDoc = OptionDoc{
		Name: "routers", Type: "string[]", Default: []string{},
		Description: "serials to show; empty or [\"$__all\"] means every router",
	}
	metricDoc = OptionDoc{
		Name: "metric", Type: "string", Default: "total", Values: []string{"total", "tx", "rx"},
		Description: "which bytes: total, tx (sent) or rx (received)",
	}
)

// maxNameList bounds the list options other than routers.
const maxNameList = 100

// nameList is a list option of plain names, such as sync jobs: trimmed,
// without blanks or duplicates; empty, or holding an "all" value, means
// no filter.
type nameList []string

// normalize checks the list of the option called option.
func (l *nameList) normalize(option string, allowed []string) error {
	if len(*l) > maxNameList {
		return fmt.Errorf("%s: %d values, at most %d allowed", option, len(*l), maxNameList)
	}
	var out nameList
	for _, v := range *l {
		v = strings.TrimSpace(v)
		switch {
		case v == "":
			continue
		case slices.Contains(allRouters, v):
			*l = nameList{}
			return nil
		case strings.HasPrefix(v, "$"):
			return fmt.Errorf("%s: %q is a template variable that was not expanded", option, v)
		case len(allowed) > 0 && !slices.Contains(allowed, v):
			return fmt.Errorf("%s: %q is not one of %s", option, v, strings.Join(allowed, ", "))
		}
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	if out == nil {
		out = nameList{}
	}
	*l = out
	return nil
}
