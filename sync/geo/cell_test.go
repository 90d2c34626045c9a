package geo_test

import (
	"testing"
	"time"

	"github.com/routerlogger/routerlogger/ingest/reading"
	"github.com/routerlogger/routerlogger/internal/testkit"
	"github.com/routerlogger/routerlogger/sync/geo"
)

func n(v int64) *int64 { return &v }

// observedOf is the cell of a parsed reading, as the writer stores it in
// router_status.
func observedOf(r reading.Reading) geo.Observed {
	return geo.Observed{NetworkType: r.NetworkType, MCC: r.MCC, MNC: r.MNC,
		LAC: r.LAC, TAC: r.TAC, CellID: r.CellID}
}

// parse parses one telemetry body with the real parser.
func parse(t *testing.T, body string) reading.Reading {
	t.Helper()
	p := reading.Parser{Now: func() time.Time { return time.Date(2025, 3, 15, 0, 0, 0, 0, time.UTC) }}
	r, ferr := p.Parse([]byte(body))
	if ferr != nil {
		t.Fatalf("parse %s: %v", body, ferr)
	}
	return r
}

func TestLocatable(t *testing.T) {
	lte := func(tac, cid *int64) geo.Observed {
		return geo.Observed{NetworkType: "LTE", MCC: "234", MNC: "30", TAC: tac, CellID: cid}
	}
	tests := []struct {
		name string
		o    geo.Observed
		want *geo.Cell // nil: not locatable
	}{
		{"fixture RL-TEST-001", lte(n(3211), n(21283329)),
			&geo.Cell{Radio: geo.RadioLTE, MCC: "234", MNC: "30", Area: 3211, ID: 21283329}},
		{"cell id 0 with a real TAC", lte(n(3211), n(0)),
			&geo.Cell{Radio: geo.RadioLTE, MCC: "234", MNC: "30", Area: 3211, ID: 0}},
		{"TAC 0, cell 0", lte(n(0), n(0)), nil},
		{"TAC 65534, cell 65535", lte(n(65534), n(65535)), nil},
		{"TAC 65535, cell 0", lte(n(65535), n(0)), nil},
		{"rms page 2: lac 65535, cell_id 0",
			geo.Observed{NetworkType: "LTE", MCC: "001", MNC: "01", LAC: n(65535), CellID: n(0)}, nil},
		{"LAC 65535 with a real cell id", geo.Observed{NetworkType: "WCDMA", MCC: "234", MNC: "15",
			LAC: n(65535), CellID: n(1234567)},
			&geo.Cell{Radio: geo.RadioUMTS, MCC: "234", MNC: "15", Area: 65535, ID: 1234567}},
		{"INT32_MAX cell id (LTE)", lte(n(3211), n(2147483647)), nil},
		{"INT32_MAX cell id (NR)", geo.Observed{NetworkType: "5G-SA", MCC: "234", MNC: "30",
			TAC: n(3211), CellID: n(2147483647)}, nil},
		{"LTE ECI max", lte(n(3211), n(geo.MaxLTECellID)),
			&geo.Cell{Radio: geo.RadioLTE, MCC: "234", MNC: "30", Area: 3211, ID: geo.MaxLTECellID}},
		{"LTE ECI above 28 bits", lte(n(3211), n(geo.MaxLTECellID+1)), nil},
		{"NR NCI above LTE range", geo.Observed{NetworkType: "5G-SA", MCC: "234", MNC: "30",
			TAC: n(3211), CellID: n(1 << 30)},
			&geo.Cell{Radio: geo.RadioNR, MCC: "234", MNC: "30", Area: 3211, ID: 1 << 30}},
		{"NR NCI max", geo.Observed{NetworkType: "NR5G", MCC: "234", MNC: "30",
			TAC: n(700000), CellID: n(geo.MaxNRCellID)},
			&geo.Cell{Radio: geo.RadioNR, MCC: "234", MNC: "30", Area: 700000, ID: geo.MaxNRCellID}},
		{"NR NCI above 36 bits", geo.Observed{NetworkType: "5G-SA", MCC: "234", MNC: "30",
			TAC: n(3211), CellID: n(geo.MaxNRCellID + 1)}, nil},
		{"NR TAC 16777215, cell 0", geo.Observed{NetworkType: "5G-SA", MCC: "234", MNC: "30",
			TAC: n(1<<24 - 1), CellID: n(0)}, nil},
		{"5G-NSA is its LTE anchor", geo.Observed{NetworkType: "5G-NSA", MCC: "234", MNC: "30",
			TAC: n(3211), CellID: n(21283329)},
			&geo.Cell{Radio: geo.RadioLTE, MCC: "234", MNC: "30", Area: 3211, ID: 21283329}},
		{"GSM cell id above 16 bits", geo.Observed{NetworkType: "EDGE", MCC: "234", MNC: "30",
			LAC: n(7033), CellID: n(70000)}, nil},
		{"GSM", geo.Observed{NetworkType: "GSM", MCC: "234", MNC: "30", LAC: n(7033), CellID: n(17811)},
			&geo.Cell{Radio: geo.RadioGSM, MCC: "234", MNC: "30", Area: 7033, ID: 17811}},
		{"no network type", geo.Observed{MCC: "234", MNC: "30", TAC: n(3211), CellID: n(1)}, nil},
		{"no MCC", geo.Observed{NetworkType: "LTE", MNC: "30", TAC: n(3211), CellID: n(1)}, nil},
		{"no cell id", lte(n(3211), nil), nil},
		{"no area", lte(nil, n(21283329)), nil},
		{"LTE with only a LAC", geo.Observed{NetworkType: "LTE", MCC: "234", MNC: "30",
			LAC: n(3211), CellID: n(21283329)},
			&geo.Cell{Radio: geo.RadioLTE, MCC: "234", MNC: "30", Area: 3211, ID: 21283329}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, reason := geo.Locatable(tt.o)
			switch {
			case tt.want == nil && reason == "":
				t.Fatalf("Locatable(%+v) = %v, want a placeholder", tt.o, c)
			case tt.want != nil && reason != "":
				t.Fatalf("Locatable(%+v): %s, want %v", tt.o, reason, *tt.want)
			case tt.want != nil && c != *tt.want:
				t.Fatalf("Locatable(%+v) = %v, want %v", tt.o, c, *tt.want)
			}
		})
	}
}

// TestLocatable_Parsed runs the rule on readings through the real parser:
// the fixture's cells, and "N/A" placeholders as RutOS sends them.
func TestLocatable_Parsed(t *testing.T) {
	lines := testkit.TelemetryLines(t)
	for _, line := range lines[:3] {
		r := parse(t, string(line))
		if c, reason := geo.Locatable(observedOf(r)); reason != "" || c.Radio != geo.RadioLTE {
			t.Errorf("%s: %v %q, want an LTE cell", r.DeviceID, c, reason)
		}
	}

	tests := []struct {
		name, body string
		ok         bool
	}{
		{"N/A lac, real tac (modems status)", `{"mcc":"234","mnc":"15","network_type":"LTE",` +
			`"cell":{"lac":"N/A","tac":"1048","cid":"35104010"}}`, true},
		{"N/A cid", `{"mcc":"234","mnc":"15","network_type":"LTE",` +
			`"cell":{"lac":"N/A","tac":"1048","cid":"N/A"}}`, false},
		{"N/A tac and lac", `{"mcc":"234","mnc":"15","network_type":"LTE",` +
			`"cell":{"lac":"N/A","tac":"N/A","cid":"35104010"}}`, false},
		{"N/A cell", `{"mcc":"234","mnc":"15","network_type":"LTE","cell":"N/A"}`, false},
		{"N/A mcc", `{"mcc":"N/A","mnc":"15","network_type":"LTE",` +
			`"cell":{"tac":"1048","cid":"35104010"}}`, false},
		{"N/A network type", `{"mcc":"234","mnc":"15","network_type":"N/A",` +
			`"cell":{"tac":"1048","cid":"35104010"}}`, false},
		{"no cell at all", `{"mcc":"234","mnc":"15","network_type":"LTE"}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"device_id":"6000000002","timestamp":"2025-03-14T12:00:00Z",` + tt.body[1:]
			c, reason := geo.Locatable(observedOf(parse(t, body)))
			if (reason == "") != tt.ok {
				t.Fatalf("Locatable = %v, %q; want locatable %v", c, reason, tt.ok)
			}
		})
	}
}

func TestRadioOf(t *testing.T) {
	tests := map[string]geo.Radio{
		"LTE": geo.RadioLTE, "4G (LTE)": geo.RadioLTE, "lte-a": geo.RadioLTE, "CAT-M1": geo.RadioLTE,
		"NB-IoT": geo.RadioLTE, "5G-NSA": geo.RadioLTE, "5G-SA": geo.RadioNR, "5G": geo.RadioNR,
		"NR5G-SA": geo.RadioNR, "WCDMA": geo.RadioUMTS, "HSPA+": geo.RadioUMTS, "3G": geo.RadioUMTS,
		"UMTS": geo.RadioUMTS, "GSM": geo.RadioGSM, "EDGE": geo.RadioGSM, "2G": geo.RadioGSM,
	}
	for in, want := range tests {
		if got, ok := geo.RadioOf(in); !ok || got != want {
			t.Errorf("RadioOf(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "N/A", "unknown", "CDMA"} {
		if got, ok := geo.RadioOf(in); ok {
			t.Errorf("RadioOf(%q) = %q, want unknown", in, got)
		}
	}
}

func TestDistance(t *testing.T) {
	// One degree of latitude is about 111.2 km on the mean sphere.
	if d := geo.Distance(51, 0, 52, 0); d < 111_100 || d > 111_300 {
		t.Fatalf("1° of latitude = %.0f m, want about 111195", d)
	}
	if d := geo.Distance(51.5, -0.1, 51.5, -0.1); d != 0 {
		t.Fatalf("same point = %g m, want 0", d)
	}
}
