package reading_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"

	"github.com/routerlogger/routerlogger/ingest/reading"
	"github.com/routerlogger/routerlogger/internal/mac"
)

func FuzzParser_Parse(f *testing.F) {
	lines := fixtureLines(f)
	for _, i := range []int{0, 14, 675} {
		f.Add(lines[i])
	}
	for _, tt := range tolerantCases {
		f.Add([]byte(obj(tt.extra)))
	}
	for _, raw := range []string{
		`{"device_id":""}`, `[]`, `{"device_id":"x","counters":{"total_tx_bytes":1e999999}}`,
		`{"device_id":"x","timestamp":1742000000000}`, `{"device_id":"x","cell":{"lac":"1.0e2"}}`,
	} {
		f.Add([]byte(raw))
	}

	s := compileSchema(f)
	p := newParser()
	f.Fuzz(func(t *testing.T, raw []byte) {
		r, ferr := p.Parse(raw)
		if ferr != nil {
			if ferr.Reason == "" || ferr.Index != 0 {
				t.Fatalf("Parse(%q): FieldError %+v lacks a reason or has an index", raw, ferr)
			}
			return
		}
		checkInvariants(t, raw, r)
		if field, bad := strictSchemaViolation(raw, s); bad {
			t.Fatalf("Parse(%q) accepted a reading the schema rejects on %q", raw, field)
		}
	})
}

// checkInvariants checks what every accepted reading guarantees.
func checkInvariants(t *testing.T, raw []byte, r reading.Reading) {
	t.Helper()
	switch {
	case strings.TrimSpace(r.DeviceID) == "":
		t.Fatalf("Parse(%q): empty DeviceID", raw)
	case r.Time.Location() != time.UTC:
		t.Fatalf("Parse(%q): Time %v not in UTC", raw, r.Time)
	case r.Time.After(fixtureNow.Add(reading.DefaultMaxFuture)):
		t.Fatalf("Parse(%q): Time %v beyond the future bound", raw, r.Time)
	case r.TxBytes != nil && *r.TxBytes < 0, r.RxBytes != nil && *r.RxBytes < 0:
		t.Fatalf("Parse(%q): negative counter", raw)
	case r.Uptime != nil && *r.Uptime < 0:
		t.Fatalf("Parse(%q): negative uptime", raw)
	case r.CounterBits != 0 && r.CounterBits != 32 && r.CounterBits != 64:
		t.Fatalf("Parse(%q): CounterBits %d", raw, r.CounterBits)
	}
	for _, m := range []string{r.MAC, r.WLANMAC} {
		if got, err := mac.Parse(m); m != "" && (err != nil || got != m) {
			t.Fatalf("Parse(%q): MAC %q not canonical", raw, m)
		}
	}
	for field, rng := range reading.RadioRanges {
		if v := radioField(r, field); v != nil && (*v < rng[0] || *v > rng[1]) {
			t.Fatalf("Parse(%q): %s %v outside %v", raw, field, *v, rng)
		}
	}
	if len(slices.Compact(slices.Sorted(slices.Values(r.Nulled)))) != len(r.Nulled) {
		t.Fatalf("Parse(%q): duplicate in Nulled %q", raw, r.Nulled)
	}
}

// radioField returns the radio field of r named as in RadioRanges.
func radioField(r reading.Reading, field string) *float64 {
	switch field {
	case "rsrp":
		return r.RSRP
	case "rsrq":
		return r.RSRQ
	case "sinr":
		return r.SINR
	}
	return r.RSSI
}

// strictSchemaViolation validates raw against the published schema on its
// own and reports a violation on a strict field (device_id, timestamp,
// counters, or the document as a whole). Inputs whose number literals are
// too costly for the validator's exact arithmetic are skipped.
func strictSchemaViolation(raw []byte, s *jsonschema.Schema) (string, bool) {
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(string(raw)))
	if err != nil || hasCostlyNumber(v) {
		return "", false
	}
	err = s.Validate(v)
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return "", false
	}
	return firstStrict(ve)
}

// firstStrict finds an innermost violation on a strict field.
func firstStrict(ve *jsonschema.ValidationError) (string, bool) {
	for _, c := range ve.Causes {
		if field, ok := firstStrict(c); ok {
			return field, true
		}
	}
	if len(ve.Causes) > 0 {
		return "", false
	}
	loc := ve.InstanceLocation
	if req, ok := ve.ErrorKind.(*kind.Required); ok {
		loc = append(slices.Clip(loc), req.Missing...)
	}
	if len(loc) == 0 {
		return "(document)", true
	}
	switch loc[0] {
	case "device_id", "timestamp", "counters":
		return strings.Join(loc, "."), true
	}
	return "", false
}

// hasCostlyNumber reports whether v holds a number literal with an
// exponent or more than 30 characters anywhere.
func hasCostlyNumber(v any) bool {
	switch x := v.(type) {
	case json.Number:
		return len(x) > 30 || strings.ContainsAny(string(x), "eE")
	case []any:
		return slices.ContainsFunc(x, hasCostlyNumber)
	case map[string]any:
		for _, e := range x {
			if hasCostlyNumber(e) {
				return true
			}
		}
	}
	return false
}
