package reading

import (
	"errors"
	"fmt"
)

// ErrUnsupportedMediaType is returned by [Parser.ParseBody] for a content
// type other than JSON or NDJSON; HTTP front doors answer 415.
var ErrUnsupportedMediaType = errors.New("reading: unsupported media type")

// ErrMalformedBody is returned by [Parser.ParseBody] for a body that is
// not JSON at all (empty, truncated, not an object or array, or an NDJSON
// body of which no line is JSON); HTTP front doors answer 400.
var ErrMalformedBody = errors.New("reading: malformed body")

// FieldError says why one reading was rejected.
type FieldError struct {
	// Index is the reading's 0-based position in its body: the array
	// index, or the count of non-blank NDJSON lines before it. It is 0
	// for a body holding one object.
	Index int
	// Field is the dotted JSON path of the offending field, such as
	// counters.total_tx_bytes; it is empty when the reading as a whole is
	// bad (not JSON, not an object).
	Field string
	// Reason says what is wrong with the value, in lower case.
	Reason string
}

// Error returns the reading's index, the field and the reason.
func (e *FieldError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("reading %d: %s", e.Index, e.Reason)
	}
	return fmt.Sprintf("reading %d: %s: %s", e.Index, e.Field, e.Reason)
}

// fieldError builds a FieldError for field with a formatted reason; the
// caller sets Index.
func fieldError(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}
