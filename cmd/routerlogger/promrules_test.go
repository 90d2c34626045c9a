package main

import (
	"bufio"
	"bytes"
	"io"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/routerlogger/routerlogger/dashboards"
	"github.com/routerlogger/routerlogger/internal/pgtest"
)

// promRuleFile is the Prometheus rule file format, alerting rules only.
type promRuleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// TestPromRules_MetricsExist runs a server, posts one reading so that the
// labelled counters have series, and requires every metric the Prometheus
// rules select to be exported on /metrics, with every label their matchers
// name.
func TestPromRules_MetricsExist(t *testing.T) {
	rules := loadPromRules(t)
	ts := startTestServer(t, pgtest.NewDatabase(t), nil)
	if r := ts.post(t, "application/json", fixtureLines(t)[0], nil); r.status != http.StatusAccepted {
		t.Fatalf("post: %d %+v", r.status, r.body)
	}
	exported := scrapeMetrics(t, ts.url+"/metrics")

	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			t.Run(r.Alert, func(t *testing.T) {
				sels := promSelectors(r.Expr)
				if len(sels) == 0 {
					t.Fatalf("expr %q selects no metric", r.Expr)
				}
				for name, labels := range sels {
					have, ok := exported[name]
					if !ok {
						t.Errorf("%s is not exported on /metrics", name)
						continue
					}
					for _, l := range labels {
						if !have[l] {
							t.Errorf("%s has no label %s (has %v)",
								name, l, slices.Sorted(maps.Keys(have)))
						}
					}
				}
			})
		}
	}
}

// TestPromRules_Format checks each rule's fields: a unique alert name, an
// expression, a parseable for, a severity and a summary.
func TestPromRules_Format(t *testing.T) {
	seen := map[string]bool{}
	for _, g := range loadPromRules(t).Groups {
		if g.Name == "" || len(g.Rules) == 0 {
			t.Errorf("group %q: want a name and rules", g.Name)
		}
		for _, r := range g.Rules {
			if r.Alert == "" || seen[r.Alert] || strings.TrimSpace(r.Expr) == "" {
				t.Errorf("rule %q: want a unique alert name and an expr", r.Alert)
			}
			seen[r.Alert] = true
			if _, err := time.ParseDuration(cmpOr(r.For, "0s")); err != nil {
				t.Errorf("%s: for %q: %v", r.Alert, r.For, err)
			}
			if r.Labels["severity"] == "" || r.Annotations["summary"] == "" {
				t.Errorf("%s: want a severity label and a summary annotation", r.Alert)
			}
		}
	}
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func loadPromRules(t *testing.T) promRuleFile {
	t.Helper()
	raw, err := dashboards.Files.ReadFile(dashboards.PrometheusRules)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	var f promRuleFile
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("%s: %v", dashboards.PrometheusRules, err)
	}
	if len(f.Groups) == 0 {
		t.Fatalf("%s has no groups", dashboards.PrometheusRules)
	}
	return f
}

// scrapeMetrics returns the series names on a text exposition page, each
// with the label names its samples carry.
func scrapeMetrics(t *testing.T, url string) map[string]map[string]bool {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d %v", resp.StatusCode, err)
	}

	out := map[string]map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, rest, _ := strings.Cut(line, " ")
		name, labels, _ := strings.Cut(name, "{")
		if strings.Contains(rest, "{") { // a space inside a label value
			labels = rest
		}
		if out[name] == nil {
			out[name] = map[string]bool{}
		}
		for _, m := range exposedLabel.FindAllStringSubmatch(labels, -1) {
			out[name][m[1]] = true
		}
	}
	return out
}

var (
	exposedLabel = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="`)
	// promGrouping matches by (...), on (...) and the like, whose names are
	// labels, not metrics.
	promGrouping = regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	promMatchers = regexp.MustCompile(`\{[^}]*\}`)
	promMatcher  = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"`)
	promRange    = regexp.MustCompile(`\[[^\]]*\]`)
	promIdent    = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)
	promKeywords = []string{"by", "without", "on", "ignoring", "group_left", "group_right",
		"bool", "and", "or", "unless", "offset"}
)

// promSelectors returns the metric names a PromQL expression selects, each
// with the label names its matchers use. It understands the PromQL the rule
// file uses (selectors, functions, aggregations, ranges, binary operators),
// not the whole language.
func promSelectors(expr string) map[string][]string {
	expr = promGrouping.ReplaceAllString(expr, " ")
	expr = promRange.ReplaceAllString(expr, " ")

	out := map[string][]string{}
	// Matchers first: they belong to the identifier before them.
	expr = promMatchers.ReplaceAllStringFunc(expr, func(m string) string {
		var labels []string
		for _, l := range promMatcher.FindAllStringSubmatch(m, -1) {
			labels = append(labels, l[1])
		}
		return "\x00" + strings.Join(labels, ",") + "\x00"
	})

	for _, loc := range promIdent.FindAllStringIndex(expr, -1) {
		name, after := expr[loc[0]:loc[1]], strings.TrimLeft(expr[loc[1]:], " \t\n")
		if isNumberPart(expr, loc[0]) || slices.Contains(promKeywords, name) ||
			strings.HasPrefix(after, "(") || inMatcher(expr, loc[0]) {
			continue
		}
		if _, ok := out[name]; !ok {
			out[name] = nil
		}
		if labels, ok := strings.CutPrefix(after, "\x00"); ok {
			list, _, _ := strings.Cut(labels, "\x00")
			if list != "" {
				out[name] = append(out[name], strings.Split(list, ",")...)
			}
		}
	}
	return out
}

// isNumberPart reports whether the identifier at i continues a number, as
// the e of 1e3 does.
func isNumberPart(s string, i int) bool {
	return i > 0 && (s[i-1] >= '0' && s[i-1] <= '9' || s[i-1] == '.')
}

// inMatcher reports whether i lies inside a replaced matcher list.
func inMatcher(s string, i int) bool {
	return strings.Count(s[:i], "\x00")%2 == 1
}

func TestPromSelectors(t *testing.T) {
	tests := []struct {
		expr string
		want map[string][]string
	}{
		{`up`, map[string][]string{"up": nil}},
		{`sum by (job, route) (rate(a_total{code=~"5.."}[5m]))
		  / sum by (route) (rate(a_total[5m])) > 0.01`,
			map[string][]string{"a_total": {"code"}}},
		{`max by (instance) (q) >= 0.8 * 1e3`, map[string][]string{"q": nil}},
		{`a >= on (job, instance) b`, map[string][]string{"a": nil, "b": nil}},
		{`increase(c_total{x="1", y!="and"}[5m]) > 0`, map[string][]string{"c_total": {"x", "y"}}},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			got := promSelectors(tt.expr)
			if !maps.EqualFunc(got, tt.want, slices.Equal) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
