package reading_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/routerlogger/routerlogger/ingest/reading"
)

// compileSchema compiles reading.SchemaJSON on its own, as a client of
// the published schema would.
func compileSchema(tb testing.TB) *jsonschema.Schema {
	tb.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(reading.SchemaJSON))
	if err != nil {
		tb.Fatalf("decode schema: %v", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("reading.json", doc); err != nil {
		tb.Fatalf("add schema: %v", err)
	}
	s, err := c.Compile("reading.json")
	if err != nil {
		tb.Fatalf("compile schema: %v", err)
	}
	return s
}

// decodeInstance decodes a JSON document as the schema validator wants.
func decodeInstance(tb testing.TB, raw string) any {
	tb.Helper()
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(raw))
	if err != nil {
		tb.Fatalf("decode %s: %v", raw, err)
	}
	return v
}

// schemaDoc is the part of the schema document the tests inspect.
type schemaDoc struct {
	Schema     string                    `json:"$schema"`
	Properties map[string]schemaProperty `json:"properties"`
}

// schemaProperty is one property of the schema.
type schemaProperty struct {
	Minimum    *float64                  `json:"minimum"`
	Maximum    *float64                  `json:"maximum"`
	Properties map[string]schemaProperty `json:"properties"`
}

// loadSchemaDoc decodes reading.SchemaJSON.
func loadSchemaDoc(tb testing.TB) schemaDoc {
	tb.Helper()
	var doc schemaDoc
	if err := json.Unmarshal(reading.SchemaJSON, &doc); err != nil {
		tb.Fatalf("decode schema: %v", err)
	}
	return doc
}

func TestSchemaJSON(t *testing.T) {
	s := compileSchema(t)
	lines := fixtureLines(t)

	t.Run("draft 2020-12", func(t *testing.T) {
		if got := loadSchemaDoc(t).Schema; got != "https://json-schema.org/draft/2020-12/schema" {
			t.Errorf("$schema = %q", got)
		}
	})
	t.Run("rejects a reading without device_id", func(t *testing.T) {
		raw := strings.Replace(string(lines[0]), `"device_id":"6000000002",`, "", 1)
		if raw == string(lines[0]) {
			t.Fatal("fixture line 0 has no device_id to remove")
		}
		err := s.Validate(decodeInstance(t, raw))
		if err == nil || !strings.Contains(err.Error(), "device_id") {
			t.Errorf("Validate = %v, want a missing device_id error", err)
		}
	})
	t.Run("accepts unknown extra fields", func(t *testing.T) {
		raw := strings.Replace(string(lines[0]), `"cell":{`,
			`"extra":{"a":[1,true]},"cell":{"pci":212,`, 1)
		if err := s.Validate(decodeInstance(t, raw)); err != nil {
			t.Errorf("Validate(%s) = %v, want nil", raw, err)
		}
	})
	t.Run("accepts every fixture line", func(t *testing.T) {
		for i, line := range lines {
			if err := s.Validate(decodeInstance(t, string(line))); err != nil {
				t.Fatalf("line %d: %v", i, err)
			}
		}
	})
	t.Run("rejects strict violations", func(t *testing.T) {
		for _, raw := range []string{
			obj(`"device_id":""`), obj(`"timestamp":-1`), obj(`"timestamp":true`),
			obj(`"counters":{"total_tx_bytes":-1}`), obj(`"counters":{"total_rx_bytes":"1.5"}`),
			obj(`"counters":{"total_tx_bytes":9223372036854775808}`), `[]`,
		} {
			if err := s.Validate(decodeInstance(t, raw)); err == nil {
				t.Errorf("Validate(%s) = nil, want an error", raw)
			}
		}
	})
}

// TestSchemaJSON_radioRanges keeps the ranges in schema.json and in the
// parser equal.
func TestSchemaJSON_radioRanges(t *testing.T) {
	cell := loadSchemaDoc(t).Properties["cell"].Properties
	for field, want := range reading.RadioRanges {
		t.Run(field, func(t *testing.T) {
			p, ok := cell[field]
			if !ok || p.Minimum == nil || p.Maximum == nil {
				t.Fatalf("schema cell.%s has no minimum and maximum", field)
			}
			if *p.Minimum != want[0] || *p.Maximum != want[1] {
				t.Errorf("schema cell.%s range [%v, %v], parser [%v, %v]",
					field, *p.Minimum, *p.Maximum, want[0], want[1])
			}
		})
	}
}

// TestSchemaJSON_everyFieldKnown sends a boolean, which the schema allows
// nowhere, in every field the schema names: the parser must reject the
// strict fields and null the others, so no schema field goes unhandled.
func TestSchemaJSON_everyFieldKnown(t *testing.T) {
	strict := []string{"device_id", "timestamp", "counters.total_tx_bytes", "counters.total_rx_bytes"}
	for _, field := range schemaFields(loadSchemaDoc(t)) {
		t.Run(field, func(t *testing.T) {
			raw := withBoolean(t, field)
			r, ferr := newParser().Parse([]byte(raw))
			switch {
			case slices.Contains(strict, field) || field == "counters":
				if ferr == nil || ferr.Field != field {
					t.Errorf("Parse(%s) error = %v, want a rejection of %s", raw, ferr, field)
				}
			case ferr != nil:
				t.Errorf("Parse(%s) error = %v, want %s nulled", raw, ferr, field)
			case !slices.Equal(r.Nulled, []string{field}):
				t.Errorf("Parse(%s) Nulled = %q, want [%s]", raw, r.Nulled, field)
			}
		})
	}
}

// schemaFields lists the dotted names of every schema property.
func schemaFields(doc schemaDoc) []string {
	var fields []string
	for name, p := range doc.Properties {
		fields = append(fields, name)
		for sub := range p.Properties {
			fields = append(fields, name+"."+sub)
		}
	}
	slices.Sort(fields)
	return fields
}

// withBoolean returns a valid reading whose field (dotted) is true.
func withBoolean(tb testing.TB, field string) string {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(obj(`"cell":{}`)), &m); err != nil {
		tb.Fatal(err)
	}
	if parent, child, ok := strings.Cut(field, "."); ok {
		m[parent].(map[string]any)[child] = true
	} else {
		m[field] = true
	}
	b, err := json.Marshal(m)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}
