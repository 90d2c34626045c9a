package reading

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

// stdDecode decodes one JSON value the encoding/json way decodeValue
// copies.
func stdDecode(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("data after the value")
	}
	return v, nil
}

// decodeCases are inputs where decodeValue must agree with encoding/json.
var decodeCases = []string{
	`{"device_id":"6000000001","counters":{"total_tx_bytes":4356572916}}`,
	`{"a":1,"a":2}`, `{}`, `[]`, `[1,"x",null,true,false,{"k":[]}]`, ` 0 `, `-0.5e-3`, `1E+2`,
	`"\u00e9\u4e2d\ud83d\ude00"`, `"\ud83d"`, `"\ud83dx"`, `"\ude00\ud83d"`, `"\ud83d\u0041"`,
	`"a\"b\\c\/d\b\f\n\r\t"`, "\"caf\xc3\xa9\"", "\"\xff\xfe\"", "\"\xed\xa0\x80\"",
	"{\"\xff\":1}", `{"k\u0000":"\u0000"}`,
	// Invalid.
	``, ` `, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `[1,]`, `[1 2]`, `01`, `-`, `1.`, `1e`, `.5`,
	`+1`, `tru`, `nul`, `"abc`, `"\x"`, `"\u12"`, `"\u12G4"`, "\"a\tb\"", `{"a":1}}`, `{1:2}`,
	`"\`, `NaN`, `Infinity`, `[` + strings.Repeat(`[`, 20) + strings.Repeat(`]`, 21),
}

func TestDecodeValue(t *testing.T) {
	for _, raw := range decodeCases {
		t.Run(raw, func(t *testing.T) {
			checkDecodeAgrees(t, []byte(raw))
		})
	}
}

func TestDecodeValue_depth(t *testing.T) {
	deep := strings.Repeat(`[`, maxDepth) + strings.Repeat(`]`, maxDepth)
	if _, err := decodeValue([]byte(deep)); err != nil {
		t.Errorf("depth %d: %v", maxDepth, err)
	}
	tooDeep := `[` + deep + `]`
	if _, err := decodeValue([]byte(tooDeep)); err == nil {
		t.Errorf("depth %d accepted", maxDepth+1)
	}
}

// checkDecodeAgrees fails unless decodeValue and encoding/json both
// reject raw or both return the same value.
func checkDecodeAgrees(t *testing.T, raw []byte) {
	t.Helper()
	got, err := decodeValue(raw)
	want, stdErr := stdDecode(raw)
	switch {
	case (err != nil) != (stdErr != nil):
		t.Fatalf("decodeValue(%q) error %v, encoding/json error %v", raw, err, stdErr)
	case err == nil && !reflect.DeepEqual(got, want):
		t.Fatalf("decodeValue(%q) = %#v, encoding/json %#v", raw, got, want)
	}
}

func FuzzDecodeValue(f *testing.F) {
	for _, raw := range decodeCases {
		f.Add([]byte(raw))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		checkDecodeAgrees(t, raw)
	})
}

func TestDecodeArray(t *testing.T) {
	var raws []string
	err := decodeArray([]byte(` [ {"a":1} ,2,"x" , [3]] `), func(raw []byte, v any) {
		raws = append(raws, string(raw))
	})
	if err != nil {
		t.Fatalf("decodeArray error: %v", err)
	}
	if want := []string{`{"a":1}`, `2`, `"x"`, `[3]`}; !reflect.DeepEqual(raws, want) {
		t.Errorf("raw elements = %q, want %q", raws, want)
	}
}
