package webhook

import (
	_ "embed" // schema.json is embedded.
	"fmt"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/routerlogger/routerlogger/internal/schema"
)

// schemaText is the JSON Schema (draft 2020-12) of one portal event.
//
//go:embed schema.json
var schemaText string

// SchemaJSON is the published JSON Schema of one captive-portal event, as
// served at /api/v1/schema/captive-portal-event.json.
var SchemaJSON = []byte(schemaText)

// schemaURL is the schema's $id.
const schemaURL = "urn:routerlogger:schema:captive-portal-event"

// compiledSchema compiles the embedded schema once; a schema that does not
// compile is a programming error caught by the package tests.
var compiledSchema = sync.OnceValue(func() *jsonschema.Schema {
	s, err := schema.Compile(schemaURL, schemaText)
	if err != nil {
		panic(fmt.Sprintf("webhook: embedded schema.json: %v", err))
	}
	return s
})

// validateSchema checks a decoded event against the schema and returns the
// first innermost violation.
func validateSchema(obj any) *FieldError {
	err := compiledSchema().Validate(obj)
	if err == nil {
		return nil
	}
	v := schema.Violations(err)[0]
	return &FieldError{Field: v.Field, Reason: v.Reason}
}
