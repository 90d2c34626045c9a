package reading_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/routerlogger/routerlogger/ingest/reading"
)

// fixtureLine is a fixture reading decoded the plain way, to check the
// parser against.
type fixtureLine struct {
	DeviceID    string `json:"device_id"`
	Name        string `json:"name"`
	Model       string `json:"model"`
	IMEI        string `json:"imei"`
	ICCID       string `json:"iccid"`
	MAC         string `json:"mac"`
	Timestamp   string `json:"timestamp"`
	WANIP       string `json:"wan_ip"`
	Operator    string `json:"operator"`
	MCC         string `json:"mcc"`
	MNC         string `json:"mnc"`
	NetworkType string `json:"network_type"`
	Cell        struct {
		LAC  *string `json:"lac"`
		TAC  string  `json:"tac"`
		CID  string  `json:"cid"`
		RSRP float64 `json:"rsrp"`
		RSRQ float64 `json:"rsrq"`
		SINR float64 `json:"sinr"`
		RSSI float64 `json:"rssi"`
	} `json:"cell"`
	Counters struct {
		Tx int64 `json:"total_tx_bytes"`
		Rx int64 `json:"total_rx_bytes"`
	} `json:"counters"`
	Firmware string `json:"fw_version"`
	Uptime   int64  `json:"uptime"`
}

// want returns the reading the parser must produce for the line.
func (f *fixtureLine) want(tb testing.TB) reading.Reading {
	tb.Helper()
	ts, err := time.Parse(time.RFC3339, f.Timestamp)
	if err != nil {
		tb.Fatalf("fixture timestamp %q: %v", f.Timestamp, err)
	}
	if f.Cell.LAC != nil {
		tb.Fatalf("fixture has a lac %q; this check expects null", *f.Cell.LAC)
	}
	return reading.Reading{
		DeviceID: f.DeviceID, Time: ts.UTC(),
		Name: f.Name, Model: f.Model, Firmware: f.Firmware,
		IMEI: f.IMEI, ICCID: f.ICCID, MAC: strings.ToUpper(f.MAC),
		TxBytes: i64(f.Counters.Tx), RxBytes: i64(f.Counters.Rx), Uptime: i64(f.Uptime),
		RSRP: f64(f.Cell.RSRP), RSRQ: f64(f.Cell.RSRQ), SINR: f64(f.Cell.SINR), RSSI: f64(f.Cell.RSSI),
		MCC: f.MCC, MNC: f.MNC, TAC: i64(atoi(tb, f.Cell.TAC)), CellID: i64(atoi(tb, f.Cell.CID)),
		Operator: f.Operator, NetworkType: f.NetworkType, WANIP: f.WANIP,
	}
}

// atoi parses a decimal fixture field.
func atoi(tb testing.TB, s string) int64 {
	tb.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		tb.Fatalf("fixture number %q: %v", s, err)
	}
	return n
}

func TestParser_Parse_fixture(t *testing.T) {
	p := newParser()
	lines := fixtureLines(t)
	if len(lines) != 840 {
		t.Fatalf("fixture has %d lines, want 840", len(lines))
	}

	for i, line := range lines {
		r, ferr := p.Parse(line)
		if ferr != nil {
			t.Fatalf("line %d: %v", i, ferr)
		}
		var f fixtureLine
		if err := json.Unmarshal(line, &f); err != nil {
			t.Fatalf("line %d: decode fixture: %v", i, err)
		}
		if want := f.want(t); !reflect.DeepEqual(r, want) {
			t.Errorf("line %d:\n got %s\nwant %s", i, show(r), show(want))
		}
	}
}

// show prints a reading with its pointer fields dereferenced.
func show(r reading.Reading) string {
	b, _ := json.Marshal(r)
	return string(b)
}

func TestParser_Parse_fixtureSpotChecks(t *testing.T) {
	p := newParser()
	lines := fixtureLines(t)

	t.Run("first line", func(t *testing.T) {
		r := mustParse(t, p, string(lines[0]))
		want := reading.Reading{
			DeviceID: "6000000002", Time: time.Date(2025, 3, 14, 0, 0, 1, 0, time.UTC),
			Name: "RL-TEST-002", Model: "RUT950", Firmware: "RUT9_R_00.07.06.20",
			IMEI: "350000000000029", ICCID: "8900100000000000029", MAC: "00:1E:42:A0:02:20",
			TxBytes: i64(812345678), RxBytes: i64(6543210987), Uptime: i64(345600),
			RSRP: f64(-100), RSRQ: f64(-7), SINR: f64(4.1), RSSI: f64(-76),
			MCC: "234", MNC: "15", TAC: i64(1048), CellID: i64(35104010),
			Operator: "Vodafone UK", NetworkType: "LTE", WANIP: "100.64.56.78",
		}
		if !reflect.DeepEqual(r, want) {
			t.Errorf("got %s\nwant %s", show(r), show(want))
		}
	})

	t.Run("RL-TEST-003 passes 2^32 without wrapping", func(t *testing.T) {
		before, after := mustParse(t, p, string(lines[9])), mustParse(t, p, string(lines[14]))
		if before.DeviceID != "6000000003" || after.DeviceID != "6000000003" {
			t.Fatalf("lines 9 and 14 are %s and %s, want 6000000003", before.DeviceID, after.DeviceID)
		}
		if *before.TxBytes != 4294838032 || *after.TxBytes != 4295038679 {
			t.Errorf("tx = %d then %d, want 4294838032 then 4295038679", *before.TxBytes, *after.TxBytes)
		}
		if *after.TxBytes <= 1<<32 {
			t.Errorf("tx %d does not pass 2^32", *after.TxBytes)
		}
		if after.MCC != "001" || after.MNC != "01" {
			t.Errorf("PLMN = %s-%s, want 001-01 with leading zeros", after.MCC, after.MNC)
		}
	})
}

// expectedRouter is one router of router-telemetry-expected.json.
type expectedRouter struct {
	Samples      int    `json:"samples_in_file"`
	First        string `json:"first_timestamp"`
	Last         string `json:"last_timestamp"`
	LastCounters struct {
		Tx int64 `json:"total_tx_bytes"`
		Rx int64 `json:"total_rx_bytes"`
	} `json:"last_counters"`
	LastUptime int64 `json:"last_uptime"`
}

func TestParser_Parse_fixtureTotals(t *testing.T) {
	var expected struct {
		Routers map[string]expectedRouter `json:"routers"`
	}
	if err := json.Unmarshal(readFixture(t, "router-telemetry-expected.json"), &expected); err != nil {
		t.Fatalf("decode expected: %v", err)
	}

	p := newParser()
	byRouter := map[string][]reading.Reading{}
	for i, line := range fixtureLines(t) {
		r, ferr := p.Parse(line)
		if ferr != nil {
			t.Fatalf("line %d: %v", i, ferr)
		}
		byRouter[r.DeviceID] = append(byRouter[r.DeviceID], r)
	}

	if len(byRouter) != len(expected.Routers) {
		t.Errorf("got %d routers, want %d", len(byRouter), len(expected.Routers))
	}
	for id, want := range expected.Routers {
		t.Run(id, func(t *testing.T) {
			checkRouterTotals(t, byRouter[id], want)
		})
	}
}

// checkRouterTotals compares one router's readings with its expected
// sample count, time span and last counters.
func checkRouterTotals(t *testing.T, rs []reading.Reading, want expectedRouter) {
	t.Helper()
	if len(rs) != want.Samples {
		t.Fatalf("%d samples, want %d", len(rs), want.Samples)
	}
	slices.SortFunc(rs, func(a, b reading.Reading) int { return a.Time.Compare(b.Time) })
	first, last := rs[0], rs[len(rs)-1]

	if got := first.Time.Format(time.RFC3339); got != want.First {
		t.Errorf("first timestamp %s, want %s", got, want.First)
	}
	if got := last.Time.Format(time.RFC3339); got != want.Last {
		t.Errorf("last timestamp %s, want %s", got, want.Last)
	}
	if *last.TxBytes != want.LastCounters.Tx || *last.RxBytes != want.LastCounters.Rx {
		t.Errorf("last counters tx %d rx %d, want tx %d rx %d",
			*last.TxBytes, *last.RxBytes, want.LastCounters.Tx, want.LastCounters.Rx)
	}
	if *last.Uptime != want.LastUptime {
		t.Errorf("last uptime %d, want %d", *last.Uptime, want.LastUptime)
	}
}

// obj builds a reading object from a valid base and extra members, which
// override the base's (encoding/json keeps the last duplicate key).
func obj(extra string) string {
	base := `{"device_id":"6000000001","timestamp":"2025-03-14T10:00:00Z",` +
		`"counters":{"total_tx_bytes":1,"total_rx_bytes":2}`
	if extra == "" {
		return base + "}"
	}
	return base + "," + extra + "}"
}

func TestParser_Parse_strict(t *testing.T) {
	tests := []struct {
		name       string
		parser     *reading.Parser
		raw        string
		wantField  string
		wantReason string
	}{
		{"device_id missing", nil, `{"timestamp":"2025-03-14T10:00:00Z"}`, "device_id", "required"},
		{"device_id empty", nil, obj(`"device_id":""`), "device_id", "must not be empty"},
		{"device_id blank", nil, obj(`"device_id":"  "`), "device_id", "must not be empty"},
		{"device_id N/A", nil, obj(`"device_id":"N/A"`), "device_id", "must not be empty"},
		{"device_id number", nil, obj(`"device_id":6000000001`), "device_id", "got number"},
		{"device_id null", nil, obj(`"device_id":null`), "device_id", "got null"},
		{"tx negative", nil, obj(`"counters":{"total_tx_bytes":-1}`),
			"counters.total_tx_bytes", "negative"},
		{"tx negative string", nil, obj(`"counters":{"total_tx_bytes":"-5"}`),
			"counters.total_tx_bytes", "negative"},
		{"tx fractional", nil, obj(`"counters":{"total_tx_bytes":1.5}`),
			"counters.total_tx_bytes", "not an integer"},
		{"tx fractional string", nil, obj(`"counters":{"total_tx_bytes":"1.5"}`),
			"counters.total_tx_bytes", "not an integer"},
		{"tx above int64", nil, obj(`"counters":{"total_tx_bytes":9223372036854775808}`),
			"counters.total_tx_bytes", "outside the int64 range"},
		{"rx above int64 string", nil, obj(`"counters":{"total_rx_bytes":"99999999999999999999"}`),
			"counters.total_rx_bytes", "outside the int64 range"},
		{"rx above int64 float", nil, obj(`"counters":{"total_rx_bytes":1e19}`),
			"counters.total_rx_bytes", "outside the int64 range"},
		{"rx huge exponent", nil, obj(`"counters":{"total_rx_bytes":1e999999}`),
			"counters.total_rx_bytes", "outside the int64 range"},
		{"rx not a number", nil, obj(`"counters":{"total_rx_bytes":"abc"}`),
			"counters.total_rx_bytes", `got string "abc"`},
		{"rx boolean", nil, obj(`"counters":{"total_rx_bytes":true}`),
			"counters.total_rx_bytes", "got boolean"},
		{"counters not an object", nil, obj(`"counters":5`), "counters", "want an object"},
		{"counters text", nil, obj(`"counters":"lots"`), "counters", "want an object"},
		{"timestamp unparsable", nil, obj(`"timestamp":"yesterday"`),
			"timestamp", "matches no known layout"},
		{"timestamp boolean", nil, obj(`"timestamp":true`), "timestamp", "got boolean"},
		{"timestamp negative epoch", nil, obj(`"timestamp":-5`), "timestamp", "negative"},
		{"timestamp future", nil, obj(`"timestamp":"2025-03-15T00:10:01Z"`),
			"timestamp", "more than the 10m0s allowed"},
		{"timestamp future epoch ms", nil, obj(`"timestamp":1742000000000`),
			"timestamp", "after the receive time"},
		{"timestamp future custom bound", &reading.Parser{Now: fixedNow, MaxFuture: time.Minute},
			obj(`"timestamp":"2025-03-15T00:02:00Z"`), "timestamp", "more than the 1m0s allowed"},
		{"timestamp before MinTime",
			&reading.Parser{Now: fixedNow, MinTime: fixtureNow.AddDate(0, 0, -1)},
			obj(`"timestamp":"1970-01-01T00:00:00Z"`), "timestamp",
			"before the earliest accepted time"},
		{"not an object", nil, `[{"device_id":"x"}]`, "", "want a JSON object, got array"},
		{"invalid JSON", nil, `{"device_id":`, "", "invalid JSON"},
		{"trailing data", nil, `{"device_id":"x"} x`, "", "data after the top-level value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.parser
			if p == nil {
				p = newParser()
			}
			r, ferr := p.Parse([]byte(tt.raw))
			if ferr == nil {
				t.Fatalf("Parse(%s) = %s, want rejection of %q", tt.raw, show(r), tt.wantField)
			}
			if ferr.Field != tt.wantField || !strings.Contains(ferr.Reason, tt.wantReason) {
				t.Errorf("Parse(%s) error = %q (field %q), want field %q with reason containing %q",
					tt.raw, ferr, ferr.Field, tt.wantField, tt.wantReason)
			}
		})
	}
}

// fixedNow is the clock of the strict-rule parsers.
func fixedNow() time.Time { return fixtureNow }

func TestParser_Parse_timeBounds(t *testing.T) {
	tests := []struct {
		name   string
		parser *reading.Parser
		raw    string
		want   time.Time
	}{
		{"within default future bound", newParser(), obj(`"timestamp":"2025-03-15T00:09:59Z"`),
			fixtureNow.Add(9*time.Minute + 59*time.Second)},
		{"exactly at MinTime", &reading.Parser{Now: fixedNow, MinTime: fixtureNow.Add(-time.Hour)},
			obj(`"timestamp":"2025-03-14T23:00:00Z"`), fixtureNow.Add(-time.Hour)},
		{"old without MinTime", newParser(), obj(`"timestamp":0`), time.Unix(0, 0).UTC()},
		{"offset converted to UTC", newParser(), obj(`"timestamp":"2025-03-14T11:00:00+01:00"`),
			time.Date(2025, 3, 14, 10, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustParse(t, tt.parser, tt.raw)
			if !r.Time.Equal(tt.want) || r.Time.Location() != time.UTC || r.TimeMissing {
				t.Errorf("Time = %v (missing %v), want %v in UTC", r.Time, r.TimeMissing, tt.want)
			}
		})
	}
}

func TestParser_Parse_missingTimestamp(t *testing.T) {
	for _, member := range []string{"", `"timestamp":null`, `"timestamp":""`, `"timestamp":"N/A"`} {
		t.Run(fmt.Sprintf("%q", member), func(t *testing.T) {
			raw := `{"device_id":"6000000001"}`
			if member != "" {
				raw = `{"device_id":"6000000001",` + member + `}`
			}
			r := mustParse(t, newParser(), raw)
			if !r.TimeMissing || !r.Time.Equal(fixtureNow) {
				t.Errorf("Time = %v, TimeMissing = %v; want %v, true", r.Time, r.TimeMissing, fixtureNow)
			}
		})
	}
}
