package reading_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/routerlogger/routerlogger/ingest/reading"
)

// itemWant is what one Item of a body must be.
type itemWant struct {
	raw       string
	deviceID  string // for accepted items
	errField  string // for rejected items
	errReason string
}

// checkItems compares items with want, in order.
func checkItems(t *testing.T, items []reading.Item, want []itemWant) {
	t.Helper()
	if len(items) != len(want) {
		t.Fatalf("got %d items, want %d", len(items), len(want))
	}
	for i, it := range items {
		w := want[i]
		if it.Index != i {
			t.Errorf("item %d: Index = %d", i, it.Index)
		}
		if string(it.Raw) != w.raw {
			t.Errorf("item %d: Raw = %q, want %q", i, it.Raw, w.raw)
		}
		checkItem(t, i, it, w)
	}
}

// checkItem compares one item's outcome with w.
func checkItem(t *testing.T, i int, it reading.Item, w itemWant) {
	t.Helper()
	if w.errReason == "" {
		if it.Err != nil {
			t.Errorf("item %d: unexpected error %v", i, it.Err)
		} else if it.Reading.DeviceID != w.deviceID {
			t.Errorf("item %d: DeviceID = %q, want %q", i, it.Reading.DeviceID, w.deviceID)
		}
		return
	}
	switch {
	case it.Err == nil:
		t.Errorf("item %d: accepted, want error on %q", i, w.errField)
	case it.Err.Index != i || it.Err.Field != w.errField ||
		!strings.Contains(it.Err.Reason, w.errReason):
		t.Errorf("item %d: error %q (index %d, field %q), want field %q with reason containing %q",
			i, it.Err, it.Err.Index, it.Err.Field, w.errField, w.errReason)
	}
}

const (
	okA     = `{"device_id":"A","timestamp":"2025-03-14T10:00:00Z"}`
	okB     = `{"device_id":"B","counters":{"total_tx_bytes":"5"}}`
	negTx   = `{"device_id":"C","counters":{"total_tx_bytes":-5}}`
	badLine = `{"device_id":"D",`
)

func TestParser_ParseBody(t *testing.T) {
	justA := []itemWant{{raw: okA, deviceID: "A"}}
	tests := []struct {
		name        string
		contentType string
		body        string
		want        []itemWant
	}{
		{"single object", "application/json", okA, justA},
		{"single object, no content type", "", " \n" + okA + "\n", justA},
		{"charset and case", "Application/JSON; charset=UTF-8", okA, justA},
		{"byte order mark", "application/json", "\xEF\xBB\xBF" + okA, justA},
		{"pretty printed object", "application/json", "{\n  \"device_id\": \"A\"\n}\n",
			[]itemWant{{raw: "{\n  \"device_id\": \"A\"\n}", deviceID: "A"}}},
		{"array", "application/json", "[ " + okA + ",\n " + okB + " , " + negTx + ", 7, []]",
			[]itemWant{
				{raw: okA, deviceID: "A"},
				{raw: okB, deviceID: "B"},
				{raw: negTx, errField: "counters.total_tx_bytes", errReason: "negative"},
				{raw: "7", errReason: "want a JSON object, got number"},
				{raw: "[]", errReason: "want a JSON object, got array"},
			}},
		{"empty array", "application/json", " [ ] ", []itemWant{}},
		{"ndjson with a bad line", "application/x-ndjson",
			okA + "\r\n\n" + badLine + "\n" + negTx + "\n  " + okB, []itemWant{
				{raw: okA, deviceID: "A"},
				{raw: badLine, errReason: "invalid JSON"},
				{raw: negTx, errField: "counters.total_tx_bytes", errReason: "negative"},
				{raw: okB, deviceID: "B"},
			}},
		{"ndjson line holding an array", "application/x-ndjson; charset=utf-8",
			okA + "\n[" + okB + "]\n", []itemWant{
				{raw: okA, deviceID: "A"},
				{raw: "[" + okB + "]", errReason: "want a JSON object, got array"},
			}},
		{"ndjson aliases", "application/jsonl", okA + "\n" + okB, []itemWant{
			{raw: okA, deviceID: "A"}, {raw: okB, deviceID: "B"},
		}},
		{"ndjson sent as application/json", "application/json", okA + "\n" + badLine + "\n" + okB,
			[]itemWant{
				{raw: okA, deviceID: "A"},
				{raw: badLine, errReason: "invalid JSON"},
				{raw: okB, deviceID: "B"},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items, err := newParser().ParseBody(tt.contentType, []byte(tt.body))
			if err != nil {
				t.Fatalf("ParseBody error: %v", err)
			}
			checkItems(t, items, tt.want)
		})
	}
}

func TestParser_ParseBody_errors(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		body        string
		want        error
	}{
		{"text/plain", "text/plain", okA, reading.ErrUnsupportedMediaType},
		{"xml", "application/xml; charset=utf-8", okA, reading.ErrUnsupportedMediaType},
		{"form", "application/x-www-form-urlencoded", okA, reading.ErrUnsupportedMediaType},
		{"malformed content type", "application/json; charset", okA, reading.ErrUnsupportedMediaType},
		{"empty", "application/json", "", reading.ErrMalformedBody},
		{"blank", "", " \r\n\t", reading.ErrMalformedBody},
		{"not JSON", "application/json", "device_id=A", reading.ErrMalformedBody},
		{"scalar", "application/json", "42", reading.ErrMalformedBody},
		{"truncated object", "application/json", `{"device_id":"A"`, reading.ErrMalformedBody},
		{"two objects on a line", "application/json", okA + okB, reading.ErrMalformedBody},
		{"truncated array", "application/json", "[" + okA + ",", reading.ErrMalformedBody},
		{"syntax error in array", "application/json", "[" + okA + ", {x}]", reading.ErrMalformedBody},
		{"data after array", "application/json", "[" + okA + "] x", reading.ErrMalformedBody},
		{"empty ndjson", "application/x-ndjson", "\n\n", reading.ErrMalformedBody},
		{"ndjson of no JSON", "application/x-ndjson", "a\nb\n", reading.ErrMalformedBody},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items, err := newParser().ParseBody(tt.contentType, []byte(tt.body))
			if !errors.Is(err, tt.want) {
				t.Fatalf("ParseBody = %d items, error %v; want %v", len(items), err, tt.want)
			}
		})
	}
}

func TestParser_ParseBody_fixture(t *testing.T) {
	body := readFixture(t, "router-telemetry-http.jsonl")
	items, err := newParser().ParseBody("application/x-ndjson", body)
	if err != nil {
		t.Fatalf("ParseBody error: %v", err)
	}

	lines := fixtureLines(t)
	if len(items) != len(lines) {
		t.Fatalf("got %d items, want %d", len(items), len(lines))
	}
	for i, it := range items {
		if it.Err != nil {
			t.Errorf("item %d: %v", i, it.Err)
		}
		if !bytes.Equal(it.Raw, lines[i]) {
			t.Errorf("item %d: Raw differs from line %d", i, i)
		}
	}
}

func TestParser_ParseBody_sharedReceiveTime(t *testing.T) {
	calls := 0
	p := &reading.Parser{Now: func() time.Time { calls++; return fixtureNow.Add(time.Duration(calls)) }}
	body := []byte(`{"device_id":"A"}` + "\n" + `{"device_id":"B"}`)
	items, err := p.ParseBody("application/x-ndjson", body)
	if err != nil {
		t.Fatalf("ParseBody error: %v", err)
	}
	if len(items) != 2 || !items[0].Reading.Time.Equal(items[1].Reading.Time) {
		t.Fatalf("readings without timestamp got different receive times: %v", items)
	}
	if !items[0].Reading.TimeMissing || calls != 1 {
		t.Errorf("TimeMissing = %v, Now called %d times; want true, once",
			items[0].Reading.TimeMissing, calls)
	}
}
