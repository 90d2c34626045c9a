package reading

import (
	_ "embed" // schema.json is embedded.
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/routerlogger/routerlogger/internal/schema"
)

// schemaText is the JSON Schema (draft 2020-12) of one reading.
//
//go:embed schema.json
var schemaText string

// SchemaJSON is the JSON Schema (draft 2020-12) of one reading, as served
// by the HTTP API. It is a copy: changing it changes nothing the parser
// does.
var SchemaJSON = []byte(schemaText)

// schemaURL is the schema's $id.
const schemaURL = "urn:routerlogger:schema:reading"

// compiledSchema compiles the embedded schema once. A schema that does not
// compile is a programming error caught by the package tests, so it
// panics.
var compiledSchema = sync.OnceValue(func() *jsonschema.Schema {
	s, err := compileSchema(schemaText)
	if err != nil {
		panic(fmt.Sprintf("reading: embedded schema.json: %v", err))
	}
	return s
})

// compileSchema compiles a schema document.
func compileSchema(text string) (*jsonschema.Schema, error) {
	return schema.Compile(schemaURL, text)
}

// validate checks the object against the schema after removing the values
// the Go rules already nulled. A violation on a strict field rejects the
// reading; one on an optional field nulls it, as the Go rules would.
func (b *builder) validate() *FieldError {
	for _, field := range b.r.Nulled {
		deletePath(b.obj, field)
	}

	err := compiledSchema().Validate(b.obj)
	if err == nil {
		return nil
	}

	violations := schema.Violations(err)
	for _, v := range violations {
		if v.Field == "" || isStrict(v.Field) {
			return fieldError(v.Field, "%s", v.Reason)
		}
	}
	for _, v := range violations {
		if !b.nullField(v.Field) {
			return fieldError(v.Field, "%s", v.Reason)
		}
	}
	return nil
}

// deletePath removes a dotted field (at most two levels) from obj.
func deletePath(obj map[string]any, field string) {
	parent, child, nested := strings.Cut(field, ".")
	if !nested {
		delete(obj, field)
		return
	}
	if m, ok := obj[parent].(map[string]any); ok {
		delete(m, child)
	}
}

// isStrict reports whether a violation of field rejects the reading.
func isStrict(field string) bool {
	switch field {
	case "", "device_id", "timestamp", "counters":
		return true
	}
	return strings.HasPrefix(field, "counters.")
}

// nullField stores an optional field as unknown and records it in Nulled;
// it reports false for a field it does not know.
func (b *builder) nullField(field string) bool {
	r := &b.r
	switch field {
	case "name":
		r.Name = ""
	case "model":
		r.Model = ""
	case "fw_version":
		r.Firmware = ""
	case "imei":
		r.IMEI = ""
	case "iccid":
		r.ICCID = ""
	case "mac":
		r.MAC = ""
	case "wlan_mac":
		r.WLANMAC = ""
	case "uptime":
		r.Uptime = nil
	case "counter_bits":
		r.CounterBits = 0
	case "operator":
		r.Operator = ""
	case "network_type":
		r.NetworkType = ""
	case "mcc":
		r.MCC = ""
	case "mnc":
		r.MNC = ""
	case "wan_ip":
		r.WANIP = ""
	default:
		if !b.nullCellField(field) {
			return false
		}
	}

	if !slices.Contains(r.Nulled, field) {
		r.Nulled = append(r.Nulled, field)
	}
	return true
}

// nullCellField stores the cell, or one field of it, as unknown.
func (b *builder) nullCellField(field string) bool {
	r := &b.r
	switch field {
	case "cell":
		r.LAC, r.TAC, r.CellID = nil, nil, nil
		r.RSRP, r.RSRQ, r.SINR, r.RSSI = nil, nil, nil, nil
	case "cell.lac":
		r.LAC = nil
	case "cell.tac":
		r.TAC = nil
	case "cell.cid":
		r.CellID = nil
	case "cell.rsrp":
		r.RSRP = nil
	case "cell.rsrq":
		r.RSRQ = nil
	case "cell.sinr":
		r.SINR = nil
	case "cell.rssi":
		r.RSSI = nil
	default:
		return false
	}
	return true
}
