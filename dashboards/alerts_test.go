package dashboards_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// Values Grafana accepts for a rule's noDataState and execErrState.
var (
	noDataStates  = []string{"Alerting", "NoData", "OK", "KeepLast"}
	execErrStates = []string{"Alerting", "Error", "OK", "KeepLast"}
)

// TestAlertRules_Format checks the alert rule file against what Grafana's
// file provisioning requires: apiVersion 1, groups with a name, folder and
// interval, rules with a unique uid, a title, a parseable for, known no-data
// and error states, and a condition naming one of its refIds.
func TestAlertRules_Format(t *testing.T) {
	f := loadAlertRules(t)
	if f.APIVersion != 1 {
		t.Errorf("apiVersion %d, want 1", f.APIVersion)
	}

	uids := map[string]bool{}
	for _, g := range f.Groups {
		if _, err := time.ParseDuration(g.Interval); err != nil || g.Name == "" || g.Folder == "" {
			t.Errorf("group %q: folder %q interval %q: want a name, folder and interval (%v)",
				g.Name, g.Folder, g.Interval, err)
		}
		for _, r := range g.Rules {
			t.Run(r.UID, func(t *testing.T) {
				if r.UID == "" || len(r.UID) > 40 || uids[r.UID] || r.Title == "" {
					t.Errorf("uid %q title %q: want a unique uid of up to 40 characters and a title",
						r.UID, r.Title)
				}
				uids[r.UID] = true
				checkRuleSettings(t, r)
				checkRuleData(t, r)
			})
		}
	}
}

// checkRuleSettings checks a rule's for, states and annotations.
func checkRuleSettings(t *testing.T, r alertRule) {
	t.Helper()

	if _, err := time.ParseDuration(r.For); err != nil {
		t.Errorf("for %q: %v", r.For, err)
	}
	if !slices.Contains(noDataStates, r.NoDataState) {
		t.Errorf("noDataState %q, want one of %v", r.NoDataState, noDataStates)
	}
	if !slices.Contains(execErrStates, r.ExecErrState) {
		t.Errorf("execErrState %q, want one of %v", r.ExecErrState, execErrStates)
	}
	if r.Annotations["summary"] == "" {
		t.Error("no summary annotation")
	}
}

// checkRuleData checks the queries and expressions of a rule: unique
// refIds, our datasource or server-side expressions only, expressions that
// refer to earlier refIds, and a condition that is one of them.
func checkRuleData(t *testing.T, r alertRule) {
	t.Helper()

	var refs []string
	for _, q := range r.Data {
		if q.RefID == "" || slices.Contains(refs, q.RefID) || q.Model["refId"] != q.RefID {
			t.Errorf("refId %q (model refId %v): want a unique refId, repeated in the model",
				q.RefID, q.Model["refId"])
		}
		switch q.DatasourceUID {
		case dsUID:
			checkRuleQuery(t, q)
		case exprUID:
			checkExpression(t, q, refs)
		default:
			t.Errorf("%s: datasourceUid %q, want %s or %s", q.RefID, q.DatasourceUID, dsUID, exprUID)
		}
		refs = append(refs, q.RefID)
	}

	if !slices.Contains(refs, r.Condition) {
		t.Errorf("condition %q is none of the refIds %v", r.Condition, refs)
	}
}

// checkRuleQuery checks a query on our datasource.
func checkRuleQuery(t *testing.T, q alertQuery) {
	t.Helper()

	qt, _ := q.Model["queryType"].(string)
	if !strings.HasPrefix(qt, "alert_") || (q.QueryType != "" && q.QueryType != qt) {
		t.Errorf("%s: queryType %q, model queryType %q: want the same alert_* type",
			q.RefID, q.QueryType, qt)
	}
	if !sameRef(q.Model["datasource"], dsType, dsUID) {
		t.Errorf("%s: model datasource %v, want ours", q.RefID, q.Model["datasource"])
	}
	if q.RelativeTimeRange.From <= q.RelativeTimeRange.To || q.RelativeTimeRange.To < 0 {
		t.Errorf("%s: relativeTimeRange %+v, want from > to >= 0", q.RefID, q.RelativeTimeRange)
	}
}

// Expression types and parameters used here.
var (
	exprTypes  = []string{"reduce", "threshold", "math"}
	reducers   = []string{"last", "mean", "min", "max", "sum", "count"}
	evaluators = []string{"gt", "lt", "within_range", "outside_range"}
)

// checkExpression checks a server-side expression against the refIds
// defined before it.
func checkExpression(t *testing.T, q alertQuery, before []string) {
	t.Helper()

	typ, _ := q.Model["type"].(string)
	if !slices.Contains(exprTypes, typ) || !sameRef(q.Model["datasource"], exprUID, exprUID) {
		t.Errorf("%s: type %q datasource %v, want one of %v on %s",
			q.RefID, typ, q.Model["datasource"], exprTypes, exprUID)
	}
	if typ == "math" {
		return // a math expression names its inputs as $A inside the formula
	}
	if in, _ := q.Model["expression"].(string); !slices.Contains(before, in) {
		t.Errorf("%s: expression %q is none of the earlier refIds %v", q.RefID, in, before)
	}

	switch typ {
	case "reduce":
		if r, _ := q.Model["reducer"].(string); !slices.Contains(reducers, r) {
			t.Errorf("%s: reducer %q, want one of %v", q.RefID, r, reducers)
		}
	case "threshold":
		if _, _, err := thresholdOf(q); err != nil {
			t.Errorf("%s: %v", q.RefID, err)
		}
	}
}

// sameRef reports whether v is a datasource reference {type, uid}.
func sameRef(v any, typ, uid string) bool {
	m, ok := v.(map[string]any)
	return ok && m["type"] == typ && m["uid"] == uid
}

// TestAlertRules_Thresholds checks that each required alert exists and
// fires on the condition it is meant for: the query type and options of its
// datasource query, and the evaluator of the threshold its condition is.
func TestAlertRules_Thresholds(t *testing.T) {
	rules := map[string]alertRule{}
	for _, g := range loadAlertRules(t).Groups {
		for _, r := range g.Rules {
			rules[r.UID] = r
		}
	}

	tests := []struct {
		uid       string
		queryType string
		options   map[string]any
		threshold float64
	}{
		{"routerlogger-router-offline", "alert_router_offline", nil, 30},
		{"routerlogger-fleet-silent", "alert_fleet_silent", nil, 10},
		{"routerlogger-reject-rate", "alert_reject_rate", map[string]any{"windowMinutes": 15}, 0.01},
		{"routerlogger-slow-queries", "alert_slow_queries", map[string]any{"thresholdSeconds": 5}, 0},
		{"routerlogger-lock-held", "alert_lock_held", nil, 60},
		{"routerlogger-sync-overdue", "alert_sync_overdue", nil, 0},
		{"routerlogger-dlq-depth", "alert_dlq_depth", nil, 10},
		{"routerlogger-inbox-lag", "alert_inbox_lag", nil, 5},
		{"routerlogger-oauth-reauth", "alert_oauth_reauth", nil, 0},
		{"routerlogger-rms-quota", "alert_rms_quota", nil, 0.8},
	}
	for _, tt := range tests {
		t.Run(tt.uid, func(t *testing.T) {
			r, ok := rules[tt.uid]
			if !ok {
				t.Fatalf("no rule with uid %s", tt.uid)
			}
			var cond *alertQuery
			for i, q := range r.Data {
				if q.DatasourceUID == dsUID && q.Model["queryType"] != tt.queryType {
					t.Errorf("%s queries %v, want %s", q.RefID, q.Model["queryType"], tt.queryType)
				}
				for k, want := range tt.options {
					if q.DatasourceUID == dsUID && q.Model[k] != want {
						t.Errorf("%s: %s = %v, want %v", q.RefID, k, q.Model[k], want)
					}
				}
				if q.RefID == r.Condition {
					cond = &r.Data[i]
				}
			}
			if cond == nil {
				t.Fatalf("condition %q is no refId", r.Condition)
			}
			op, v, err := thresholdOf(*cond)
			if err != nil || op != "gt" || v != tt.threshold {
				t.Errorf("condition %s: %s %v (%v), want gt %v", r.Condition, op, v, err, tt.threshold)
			}
		})
	}
}

// TestAlertRules_Labels requires the alerts that fire per row (router,
// lock, sync job) to carry the labels alerting takes from the frame's label
// fields, so that each notification names what it is about.
func TestAlertRules_Labels(t *testing.T) {
	rules := map[string]alertRule{}
	for _, g := range loadAlertRules(t).Groups {
		for _, r := range g.Rules {
			rules[r.UID] = r
		}
	}

	tests := []struct {
		uid    string
		labels []string
	}{
		{"routerlogger-router-offline", []string{"serial", "name"}},
		{"routerlogger-lock-held", []string{"lock", "holder"}},
		{"routerlogger-sync-overdue", []string{"job"}},
		{"routerlogger-oauth-reauth", []string{"provider"}},
	}
	for _, tt := range tests {
		t.Run(tt.uid, func(t *testing.T) {
			r, ok := rules[tt.uid]
			if !ok {
				t.Fatalf("no rule %s", tt.uid)
			}
			for _, l := range tt.labels {
				if want := "{{ $labels." + l + " }}"; r.Labels[l] != want {
					t.Errorf("label %s = %q, want %q", l, r.Labels[l], want)
				}
			}
		})
	}
}

// thresholdOf returns the evaluator type and first parameter of a threshold
// expression with exactly one condition.
func thresholdOf(q alertQuery) (string, float64, error) {
	conds, _ := q.Model["conditions"].([]any)
	if q.Model["type"] != "threshold" || len(conds) != 1 {
		return "", 0, fmt.Errorf("type %v with %d conditions, want a threshold with one",
			q.Model["type"], len(conds))
	}
	c, _ := conds[0].(map[string]any)
	ev, _ := c["evaluator"].(map[string]any)
	typ, _ := ev["type"].(string)
	params, _ := ev["params"].([]any)
	if !slices.Contains(evaluators, typ) || len(params) == 0 {
		return "", 0, fmt.Errorf("evaluator %v: want one of %v with parameters", ev, evaluators)
	}
	v, ok := asNumber(params[0])
	if !ok {
		return "", 0, fmt.Errorf("evaluator parameter %v is not a number", params[0])
	}
	return typ, v, nil
}
