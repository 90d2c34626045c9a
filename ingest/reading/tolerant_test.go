package reading_test

import (
	"reflect"
	"testing"

	"github.com/routerlogger/routerlogger/ingest/reading"
)

// tolerantCase is an input the parser must accept, with the fields it
// must produce.
type tolerantCase struct {
	name  string
	extra string
	// check compares the fields the case is about.
	check func(r reading.Reading) (got, want any)
	// wantNulled lists the fields that must be nulled, in order.
	wantNulled []string
}

// deref returns *p, or nil for a nil pointer, for comparisons.
func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// is builds a check that compares field(r) with want.
func is(field func(r reading.Reading) any, want any) func(reading.Reading) (any, any) {
	return func(r reading.Reading) (any, any) { return field(r), want }
}

// Accessors let cases name the field they check.
func txBytes(r reading.Reading) any { return deref(r.TxBytes) }
func rxBytes(r reading.Reading) any { return deref(r.RxBytes) }
func uptime(r reading.Reading) any  { return deref(r.Uptime) }
func rsrp(r reading.Reading) any    { return deref(r.RSRP) }
func rsrq(r reading.Reading) any    { return deref(r.RSRQ) }
func sinr(r reading.Reading) any    { return deref(r.SINR) }
func rssi(r reading.Reading) any    { return deref(r.RSSI) }
func lac(r reading.Reading) any     { return deref(r.LAC) }
func tac(r reading.Reading) any     { return deref(r.TAC) }
func cid(r reading.Reading) any     { return deref(r.CellID) }
func macOf(r reading.Reading) any   { return r.MAC }
func wlanMAC(r reading.Reading) any { return r.WLANMAC }
func wanIP(r reading.Reading) any   { return r.WANIP }
func name(r reading.Reading) any    { return r.Name }
func imei(r reading.Reading) any    { return r.IMEI }
func iccid(r reading.Reading) any   { return r.ICCID }
func bits(r reading.Reading) any    { return r.CounterBits }
func plmn(r reading.Reading) any    { return r.MCC + "-" + r.MNC }

// fields combines accessors into one that returns their values in order.
func fields(fs ...func(reading.Reading) any) func(reading.Reading) any {
	return func(r reading.Reading) any {
		out := make([]any, len(fs))
		for i, f := range fs {
			out[i] = f(r)
		}
		return out
	}
}

// cellFields returns every cell field, to check a whole cell is unknown.
var cellFields = fields(lac, tac, cid, rsrp, rsrq, sinr, rssi)

var tolerantCases = []tolerantCase{
	// Numbers as strings.
	{"counter as string", `"counters":{"total_tx_bytes":"858217639"}`,
		is(txBytes, int64(858217639)), nil},
	{"counter string with spaces", `"counters":{"total_tx_bytes":" 858217639 "}`,
		is(txBytes, int64(858217639)), nil},
	{"uptime as string", `"uptime":"431700"`, is(uptime, int64(431700)), nil},
	{"rsrp as string", `"cell":{"rsrp":"-91"}`, is(rsrp, -91.0), nil},
	{"sinr as decimal string", `"cell":{"sinr":"6.1"}`, is(sinr, 6.1), nil},
	{"cell ids as numbers", `"cell":{"lac":12,"tac":3211,"cid":21283329}`,
		is(fields(lac, tac, cid), []any{int64(12), int64(3211), int64(21283329)}), nil},

	// Integral floats are integers.
	{"integral float counter", `"counters":{"total_tx_bytes":858217639.0}`,
		is(txBytes, int64(858217639)), nil},
	{"integral float string counter", `"counters":{"total_rx_bytes":"858217639.0"}`,
		is(rxBytes, int64(858217639)), nil},
	{"exponent counter", `"counters":{"total_tx_bytes":8.58217639e8}`,
		is(txBytes, int64(858217639)), nil},
	{"integral float uptime", `"uptime":300.0`, is(uptime, int64(300)), nil},

	// Integers above 2^53 stay exact.
	{"2^53+1 counter", `"counters":{"total_tx_bytes":9007199254740993}`,
		is(txBytes, int64(9007199254740993)), nil},
	{"2^53+1 counter as string", `"counters":{"total_rx_bytes":"9007199254740993"}`,
		is(rxBytes, int64(9007199254740993)), nil},
	{"max int64 counter", `"counters":{"total_tx_bytes":9223372036854775807}`,
		is(txBytes, int64(9223372036854775807)), nil},
	{"2^53+1 as integral float", `"counters":{"total_tx_bytes":9007199254740993.0}`,
		is(txBytes, int64(9007199254740993)), nil},

	// Unknown spellings.
	{"counters N/A", `"counters":"N/A"`, is(txBytes, nil), nil},
	{"counter null", `"counters":{"total_tx_bytes":null,"total_rx_bytes":"N/A"}`,
		is(fields(txBytes, rxBytes), []any{nil, nil}), nil},
	{"text N/A", `"name":"N/A"`, is(name, ""), nil},
	{"text null", `"name":null`, is(name, ""), nil},
	{"rsrp N/A", `"cell":{"rsrp":"N/A","rsrq":"","sinr":null}`,
		is(fields(rsrp, rsrq, sinr), []any{nil, nil, nil}), nil},
	{"mac empty", `"mac":""`, is(macOf, ""), nil},
	{"cell N/A", `"cell":"N/A"`, is(cellFields, []any{nil, nil, nil, nil, nil, nil, nil}), nil},
	{"uptime N/A", `"uptime":"N/A"`, is(uptime, nil), nil},
	{"mcc N/A", `"mcc":"N/A","mnc":""`, is(plmn, "-"), nil},

	// MACs in any vendor form.
	{"bare lower mac", `"mac":"001e42a00110"`, is(macOf, "00:1E:42:A0:01:10"), nil},
	{"dotted mac", `"wlan_mac":"001e.42a0.0112"`, is(wlanMAC, "00:1E:42:A0:01:12"), nil},
	{"dashed mac", `"mac":"00-1E-42-A0-01-10"`, is(macOf, "00:1E:42:A0:01:10"), nil},

	// PLMN keeps leading zeros; numbers become integers.
	{"plmn strings", `"mcc":"001","mnc":"01"`, is(plmn, "001-01"), nil},
	{"plmn numbers", `"mcc":234,"mnc":1`, is(plmn, "234-1"), nil},

	// Text.
	{"imei as number", `"imei":350000000000011`, is(imei, "350000000000011"), nil},
	{"iccid above 2^53 as number", `"iccid":8900100000000000011`, is(iccid, "8900100000000000011"), nil},
	{"text trimmed", `"name":"  RL-TEST-001 "`, is(name, "RL-TEST-001"), nil},

	// Addresses.
	{"ipv6 canonical", `"wan_ip":"2001:DB8::0:1"`, is(wanIP, "2001:db8::1"), nil},
	{"ipv4-mapped ipv6", `"wan_ip":"::ffff:100.64.1.2"`, is(wanIP, "100.64.1.2"), nil},

	// Counter width.
	{"counter_bits 32", `"counter_bits":32`, is(bits, 32), nil},
	{"counter_bits string 64", `"counter_bits":"64"`, is(bits, 64), nil},

	// Boundaries of the radio ranges are valid.
	{"rsrp bounds", `"cell":{"rsrp":-156}`, is(rsrp, -156.0), nil},
	{"rsrq bounds", `"cell":{"rsrq":-43,"sinr":50,"rssi":-20}`,
		is(fields(rsrq, sinr, rssi), []any{-43.0, 50.0, -20.0}), nil},

	// Unknown fields are ignored.
	{"extra fields", `"foo":{"bar":[1,2,{"x":1e999999}]},"cell":{"pci":212,"rsrp":-91}`,
		is(rsrp, -91.0), nil},

	// Bad optional values are nulled, never rejected.
	{"rsrp 0 from a detached modem", `"cell":{"rsrp":0,"rsrq":-7}`, is(rsrp, nil),
		[]string{"cell.rsrp"}},
	{"rsrp too low", `"cell":{"rsrp":-157}`, is(rsrp, nil), []string{"cell.rsrp"}},
	{"rsrp too high", `"cell":{"rsrp":"-30"}`, is(rsrp, nil), []string{"cell.rsrp"}},
	{"rsrq -125", `"cell":{"rsrq":-125}`, is(rsrq, nil), []string{"cell.rsrq"}},
	{"rsrq too high", `"cell":{"rsrq":20.5}`, is(rsrq, nil), []string{"cell.rsrq"}},
	{"sinr too high", `"cell":{"sinr":51}`, is(sinr, nil), []string{"cell.sinr"}},
	{"sinr too low", `"cell":{"sinr":-31}`, is(sinr, nil), []string{"cell.sinr"}},
	{"rssi too high", `"cell":{"rssi":-10}`, is(rssi, nil), []string{"cell.rssi"}},
	{"rssi too low", `"cell":{"rssi":-131}`, is(rssi, nil), []string{"cell.rssi"}},
	{"rsrp not a number", `"cell":{"rsrp":"weak"}`, is(rsrp, nil), []string{"cell.rsrp"}},
	{"rsrp boolean", `"cell":{"rsrp":true}`, is(rsrp, nil), []string{"cell.rsrp"}},
	{"cid unparsable", `"cell":{"cid":"abc","tac":"1048"}`, is(cid, nil), []string{"cell.cid"}},
	{"cid negative", `"cell":{"cid":-1}`, is(cid, nil), []string{"cell.cid"}},
	{"lac negative string", `"cell":{"lac":"-5"}`, is(lac, nil), []string{"cell.lac"}},
	{"tac fractional", `"cell":{"tac":1.5}`, is(tac, nil), []string{"cell.tac"}},
	{"cid hex", `"cell":{"cid":"0x1A2B"}`, is(cid, nil), []string{"cell.cid"}},
	{"cell not an object", `"cell":5`, is(cellFields, []any{nil, nil, nil, nil, nil, nil, nil}),
		[]string{"cell"}},
	{"bad mac", `"mac":"00:1E:42:A0:01"`, is(macOf, ""), []string{"mac"}},
	{"mixed separator mac", `"wlan_mac":"00:1E-42:A0:01:12"`, is(wlanMAC, ""), []string{"wlan_mac"}},
	{"mac number", `"mac":1`, is(macOf, ""), []string{"mac"}},
	{"bad wan ip", `"wan_ip":"999.1.1.1"`, is(wanIP, ""), []string{"wan_ip"}},
	{"uptime negative", `"uptime":-1`, is(uptime, nil), []string{"uptime"}},
	{"uptime fractional", `"uptime":"1.5"`, is(uptime, nil), []string{"uptime"}},
	{"counter_bits 16", `"counter_bits":16`, is(bits, 0), []string{"counter_bits"}},
	{"counter_bits text", `"counter_bits":"wide"`, is(bits, 0), []string{"counter_bits"}},
	{"name object", `"name":{"first":"RL"}`, is(name, ""), []string{"name"}},
	{"mcc too long", `"mcc":"2345","mnc":"15"`, is(plmn, "-15"), []string{"mcc"}},
	{"mnc negative number", `"mcc":"234","mnc":-1`, is(plmn, "234-"), []string{"mnc"}},
	{"several nulled in order", `"mac":"x","cell":{"rsrp":0,"rsrq":-125}`,
		is(rsrq, nil), []string{"mac", "cell.rsrp", "cell.rsrq"}},

	// The schema nulls what the Go rules let through but the contract
	// does not: counter_bits is exactly 32 or 64.
	{"counter_bits string 32.0 nulled by schema", `"counter_bits":"32.0"`, is(bits, 0),
		[]string{"counter_bits"}},
}

func TestParser_Parse_tolerant(t *testing.T) {
	for _, tt := range tolerantCases {
		t.Run(tt.name, func(t *testing.T) {
			raw := obj(tt.extra)
			r := mustParse(t, newParser(), raw)
			if got, want := tt.check(r); !reflect.DeepEqual(got, want) {
				t.Errorf("Parse(%s): got %v (%T), want %v (%T)", raw, got, got, want, want)
			}
			if !reflect.DeepEqual(r.Nulled, tt.wantNulled) {
				t.Errorf("Parse(%s): Nulled = %q, want %q", raw, r.Nulled, tt.wantNulled)
			}
		})
	}
}
