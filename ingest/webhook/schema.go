package webhook

import (
	_ "embed" // schema.json is embedded.
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
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

// printer renders schema error messages.
var printer = message.NewPrinter(language.English)

// compiledSchema compiles the embedded schema once; a schema that does not
// compile is a programming error caught by the package tests.
var compiledSchema = sync.OnceValue(func() *jsonschema.Schema {
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(schemaText))
	if err != nil {
		panic(fmt.Sprintf("webhook: embedded schema.json: %v", err))
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(schemaURL, doc); err != nil {
		panic(fmt.Sprintf("webhook: embedded schema.json: %v", err))
	}
	return c.MustCompile(schemaURL)
})

// validateSchema checks a decoded event against the schema and returns the
// first innermost violation.
func validateSchema(obj any) *FieldError {
	err := compiledSchema().Validate(obj)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return &FieldError{Reason: "schema validation: " + err.Error()}
	}
	for len(ve.Causes) > 0 {
		ve = ve.Causes[0]
	}

	path := ve.InstanceLocation
	if req, ok := ve.ErrorKind.(*kind.Required); ok && len(req.Missing) > 0 {
		path = append(slices.Clip(path), req.Missing[0])
	}
	return &FieldError{Field: strings.Join(path, "."),
		Reason: "schema: " + ve.ErrorKind.LocalizedString(printer)}
}
