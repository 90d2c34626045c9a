// Package schema compiles the JSON Schemas RouterLogger publishes and turns
// a validation failure into field violations, named by dotted path, that
// front doors report to senders.
package schema

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// printer renders the validator's messages.
var printer = message.NewPrinter(language.English)

// Compile compiles the schema document text under its $id.
func Compile(id, text string) (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(text))
	if err != nil {
		return nil, fmt.Errorf("decode schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(id, doc); err != nil {
		return nil, fmt.Errorf("add schema: %w", err)
	}
	s, err := c.Compile(id)
	if err != nil {
		return nil, fmt.Errorf("compile schema: %w", err)
	}
	return s, nil
}

// Violation is one innermost schema violation.
type Violation struct {
	// Field is the dotted path of the value; for a missing required
	// property, the path of that property.
	Field string
	// Reason starts with "schema: ".
	Reason string
}

// Violations flattens a validation error into its innermost violations, in
// the validator's order. An error that is not a validation error becomes
// one violation without a field.
func Violations(err error) []Violation {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []Violation{{Reason: "schema validation: " + err.Error()}}
	}
	return leaves(ve, nil)
}

func leaves(ve *jsonschema.ValidationError, out []Violation) []Violation {
	if len(ve.Causes) > 0 {
		for _, c := range ve.Causes {
			out = leaves(c, out)
		}
		return out
	}

	path := ve.InstanceLocation
	if req, ok := ve.ErrorKind.(*kind.Required); ok && len(req.Missing) > 0 {
		path = append(slices.Clip(path), req.Missing[0])
	}
	return append(out, Violation{
		Field:  strings.Join(path, "."),
		Reason: "schema: " + ve.ErrorKind.LocalizedString(printer),
	})
}
