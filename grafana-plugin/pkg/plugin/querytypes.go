package plugin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
)

// The kinds of answer a query type gives.
const (
	KindTimeSeries = "timeseries" // time series frames
	KindTable      = "table"      // one table frame
	KindAlert      = "alert"      // numbers alerting can threshold
	KindVariable   = "variable"   // text and value for template variables
	KindRaw        = "raw"        // whatever the SQL returns
)

// QueryType is one entry of the query-type table: its name (the queryType
// of the query JSON), what it answers, its options, and how to decode,
// check and run a query of its type.
type QueryType struct {
	Name        string      `json:"name"`
	Kind        string      `json:"kind"`
	Description string      `json:"description"`
	Options     []OptionDoc `json:"options"`

	// prepare decodes and checks the options of q, and returns the run
	// that answers it.
	prepare func(q backend.DataQuery) (runFunc, error)
}

// OptionDoc describes one option of a query type for the query editor.
type OptionDoc struct {
	Name        string   `json:"name"`
	Type        string   `json:"type"` // string, string[], number
	Default     any      `json:"default,omitempty"`
	Values      []string `json:"values,omitempty"` // the allowed values, when a fixed set
	Description string   `json:"description"`
}

// runFunc answers a prepared query.
type runFunc func(ctx context.Context, d *Datasource) (data.Frames, error)

// request is a decoded, checked query of a type with options O.
type request[O any] struct {
	backend.DataQuery
	Opts O
}

// options is what the options of a query type implement: normalize fills
// in defaults and checks the values.
type options[O any] interface {
	*O
	normalize() error
}

// queryTypes is the table of query types, in the order the editor lists
// them. Each entry's options and handler live in query_<name>.go; a new
// query type is a new entry here.
var queryTypes = []QueryType{
	newQueryType("fleet_usage", KindTimeSeries,
		"bytes sent and received by the whole fleet per interval, from the hourly "+
			"rollups when the interval is under a day, else the daily ones",
		nil, runFleetUsage),
	newQueryType("router_usage", KindTimeSeries,
		"bytes per router per interval, one series per router",
		[]OptionDoc{routersDoc, metricDoc}, runRouterUsage),
	newQueryType("top_routers", KindTable,
		"the routers that used the most bytes over the time range",
		[]OptionDoc{topLimitDoc, metricDoc}, runTopRouters),
	newQueryType("router_status", KindTable,
		"the latest reading of each router and whether it is online",
		[]OptionDoc{routersDoc}, runRouterStatus),
	newQueryType("signal", KindTimeSeries,
		"radio signal per router, averaged per interval",
		[]OptionDoc{routersDoc, signalMetricsDoc}, runSignal),
	newQueryType("events", KindTable,
		"usage events (reboots, glitches, gaps, late readings, resets, wraps), for annotations",
		[]OptionDoc{eventRoutersDoc, eventNamesDoc}, runEvents),
	newQueryType("ingest_health", KindTimeSeries,
		"readings accepted, duplicated and rejected per interval, and the reject rate",
		nil, runIngestHealth),
	newQueryType("sync_runs", KindTable,
		"runs of the sync jobs that overlap the time range, newest first, with counts and errors",
		[]OptionDoc{jobsDoc, statusesDoc}, runSyncRuns),
	newQueryType("sync_job_health", KindTable,
		"each sync job's last run, last success, back-off and whether it is overdue, "+
			"and its runs in the time range by status",
		[]OptionDoc{jobsDoc}, runSyncJobHealth),
	newQueryType("locks", KindTable,
		"the held job locks, their holders and how long they have been held",
		nil, runLocks),
	newQueryType("guest_sessions", KindTimeSeries,
		"guest Wi-Fi sessions started per interval, one series per router",
		[]OptionDoc{routersDoc}, runGuestSessions),
	newQueryType("guest_session_summary", KindTable,
		"guest Wi-Fi sessions per router: started in the range, active now, and durations",
		[]OptionDoc{routersDoc}, runGuestSessionSummary),
	newQueryType("guest_property_summary", KindTable,
		"guest Wi-Fi sessions per property: started in the range, active now, and durations",
		[]OptionDoc{routersDoc}, runGuestPropertySummary),
	newQueryType("dlq_depth", KindTable,
		"how many captive-portal events are in the dead-letter queue, and the oldest failure",
		nil, runDLQDepth),
	newQueryType("dlq_events", KindTable,
		"the captive-portal events in the dead-letter queue, latest failure first",
		nil, runDLQEvents),
	newQueryType("portal_inbox", KindTable,
		"captive-portal events waiting for their job, and the age of the oldest",
		nil, runPortalInbox),
	newQueryType("oauth_state", KindTable,
		"each outside service's authorisation: ok or needs_reauth, token expiry, last error",
		nil, runOAuthState),
	newQueryType("rms_quota", KindTable,
		"RMS API requests per month against the quota, oldest first",
		nil, runRMSQuota),
	newQueryType("usage_reconciliation", KindTable,
		"RMS's daily usage beside RouterLogger's per router and UTC day, largest difference first",
		[]OptionDoc{routersDoc}, runUsageReconciliation),
	newQueryType("alert_router_offline", KindAlert,
		"minutes since each router's last sample, labelled by serial and name",
		nil, runAlertRouterOffline),
	newQueryType("alert_fleet_silent", KindAlert,
		"minutes since the newest sample of any router",
		nil, runAlertFleetSilent),
	newQueryType("alert_reject_rate", KindAlert,
		"rejected readings as a fraction of all readings over the last window",
		[]OptionDoc{windowMinutesDoc}, runAlertRejectRate),
	newQueryType("alert_slow_queries", KindAlert,
		"how many database queries have been running longer than the threshold",
		[]OptionDoc{thresholdSecondsDoc}, runAlertSlowQueries),
	newQueryType("alert_lock_held", KindAlert,
		"minutes each held lock has been held, labelled by lock and holder",
		nil, runAlertLockHeld),
	newQueryType("alert_sync_overdue", KindAlert,
		"1 for each sync job with no ok run within twice its interval, else 0, labelled by job",
		nil, runAlertSyncOverdue),
	newQueryType("alert_dlq_depth", KindAlert,
		"how many captive-portal events are in the dead-letter queue",
		nil, runAlertDLQDepth),
	newQueryType("alert_inbox_lag", KindAlert,
		"minutes since the oldest captive-portal event still waiting for its job arrived",
		nil, runAlertInboxLag),
	newQueryType("alert_oauth_reauth", KindAlert,
		"1 for each outside service whose authorisation an operator must renew, else 0, "+
			"labelled by provider",
		nil, runAlertOAuthReauth),
	newQueryType("alert_rms_quota", KindAlert,
		"share of this month's RMS API request quota used",
		nil, runAlertRMSQuota),
	newQueryType("raw_sql", KindRaw,
		"your own SELECT over the granted views, with macros, read-only and limited",
		[]OptionDoc{rawSQLDoc, rawFormatDoc}, runRawSQL),
	newQueryType("variable", KindVariable,
		"values for template variables",
		[]OptionDoc{variableDoc}, runVariable),
}

// newQueryType makes a table entry whose options are decoded from the
// query JSON into O and normalized before handle runs.
func newQueryType[O any, P options[O]](name, kind, desc string, docs []OptionDoc,
	handle func(context.Context, *Datasource, request[O]) (data.Frames, error)) QueryType {
	if docs == nil {
		docs = []OptionDoc{}
	}
	return QueryType{
		Name: name, Kind: kind, Description: desc, Options: docs,
		prepare: func(q backend.DataQuery) (runFunc, error) {
			r := request[O]{DataQuery: q}
			if err := decodeOptions(q.JSON, P(&r.Opts)); err != nil {
				return nil, err
			}
			if err := checkRange(q.TimeRange); err != nil {
				return nil, err
			}
			return func(ctx context.Context, d *Datasource) (data.Frames, error) {
				return handle(ctx, d, r)
			}, nil
		},
	}
}

// decodeOptions decodes raw into opts and normalizes them. Properties it
// does not know, such as refId, are ignored.
func decodeOptions[O any, P options[O]](raw json.RawMessage, opts P) error {
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, opts); err != nil {
			var typeErr *json.UnmarshalTypeError
			if errors.As(err, &typeErr) && typeErr.Field != "" {
				return fmt.Errorf("%s: want %s, got a JSON %s", typeErr.Field, typeErr.Type, typeErr.Value)
			}
			return fmt.Errorf("query JSON: %w", err)
		}
	}
	return opts.normalize()
}

// QueryTypes returns a copy of the query-type table.
func QueryTypes() []QueryType {
	return append([]QueryType(nil), queryTypes...)
}

var queryTypeIndex = sync.OnceValue(func() map[string]QueryType {
	m := make(map[string]QueryType, len(queryTypes))
	for _, qt := range queryTypes {
		if _, dup := m[qt.Name]; dup {
			panic("plugin: query type " + qt.Name + " is in the table twice")
		}
		m[qt.Name] = qt
	}
	return m
})

// lookupQueryType finds a query type by name.
func lookupQueryType(name string) (QueryType, bool) {
	qt, ok := queryTypeIndex()[name]
	return qt, ok
}

// queryTypeNames lists the names of the table, for messages.
func queryTypeNames() string {
	names := make([]string, len(queryTypes))
	for i, qt := range queryTypes {
		names[i] = qt.Name
	}
	return strings.Join(names, ", ")
}
