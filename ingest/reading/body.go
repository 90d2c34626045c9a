package reading

import (
	"bytes"
	"fmt"
	"mime"
	"time"
)

// Item is one reading of a body, parsed or rejected.
type Item struct {
	// Index is the reading's 0-based position in the body (see
	// [FieldError.Index]).
	Index int
	// Raw is the reading's JSON as sent; it aliases the body.
	Raw []byte
	// Reading is the parsed reading; it is valid only when Err is nil.
	Reading Reading
	// Err says why the reading was rejected.
	Err *FieldError
}

// bodyFormat is how a body's readings are laid out.
type bodyFormat int

const (
	// formatJSON is one object, an array of objects or, leniently,
	// NDJSON sent as application/json.
	formatJSON bodyFormat = iota
	// formatNDJSON is one object per line.
	formatNDJSON
)

// utf8BOM is skipped at the start of a body; some HTTP clients send it.
var utf8BOM = []byte("\xEF\xBB\xBF")

// ParseBody parses an HTTP (or import) body into items, one per reading.
//
// The content type selects the layout: application/json or none at all
// means one object, an array of objects, or NDJSON (several objects, one
// per line); application/x-ndjson (also application/ndjson and
// application/jsonl) means one object per line, blank lines skipped.
// Parameters such as charset are allowed; the body is read as UTF-8. Any
// other type gives an error wrapping [ErrUnsupportedMediaType].
//
// A reading that is bad on its own (an array element or NDJSON line that
// is not a valid object, or that breaks a strict rule) is an Item with
// Err, and the others are still parsed. A body that is not JSON at all
// gives an error wrapping [ErrMalformedBody]. An empty array gives no
// items and no error. Gzip is for the HTTP layer to undo.
func (p *Parser) ParseBody(contentType string, body []byte) ([]Item, error) {
	format, err := mediaFormat(contentType)
	if err != nil {
		return nil, err
	}

	now := p.now()
	body = bytes.TrimPrefix(body, utf8BOM)
	if format == formatNDJSON {
		return p.parseLines(body, now)
	}
	return p.parseJSON(body, now)
}

// mediaFormat maps a Content-Type header to a body layout.
func mediaFormat(contentType string) (bodyFormat, error) {
	if contentType == "" {
		return formatJSON, nil
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return 0, fmt.Errorf("%w: content type %q: %w", ErrUnsupportedMediaType, contentType, err)
	}
	switch mt {
	case "application/json":
		return formatJSON, nil
	case "application/x-ndjson", "application/ndjson", "application/jsonl":
		return formatNDJSON, nil
	}
	return 0, fmt.Errorf("%w: %q, want application/json or application/x-ndjson",
		ErrUnsupportedMediaType, mt)
}

// parseJSON parses a JSON body: an array, one object, or NDJSON.
func (p *Parser) parseJSON(body []byte, now time.Time) ([]Item, error) {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		return nil, fmt.Errorf("%w: empty body", ErrMalformedBody)
	}

	switch trimmed[0] {
	case '[':
		return p.parseArray(trimmed, now)
	case '{':
		v, err := decodeValue(trimmed)
		if err == nil {
			return []Item{p.item(0, bytes.TrimRight(trimmed, " \t\r\n"), v, now)}, nil
		}
		if bytes.Count(bytes.TrimSpace(trimmed), []byte("\n")) > 0 {
			return p.parseLines(trimmed, now)
		}
		return nil, fmt.Errorf("%w: %w", ErrMalformedBody, err)
	}
	return nil, fmt.Errorf("%w: want a JSON object, an array of objects or NDJSON, "+
		"body starts with %q", ErrMalformedBody, firstRune(trimmed))
}

// firstRune returns the body's first character for error messages.
func firstRune(b []byte) string {
	return string(bytes.Runes(b[:min(len(b), 4)])[:1])
}

// item parses one decoded value into an Item.
func (p *Parser) item(index int, raw []byte, v any, now time.Time) Item {
	r, ferr := p.parseValue(v, now)
	if ferr != nil {
		ferr.Index = index
	}
	return Item{Index: index, Raw: raw, Reading: r, Err: ferr}
}

// parseArray parses a JSON array of readings. A syntax error anywhere
// makes the whole body malformed; an element that is not an object is an
// Item with Err.
func (p *Parser) parseArray(body []byte, now time.Time) ([]Item, error) {
	var items []Item
	err := decodeArray(body, func(raw []byte, v any) {
		items = append(items, p.item(len(items), raw, v, now))
	})
	if err != nil {
		return nil, fmt.Errorf("%w: array element %d: %w", ErrMalformedBody, len(items), err)
	}
	return items, nil
}

// isSpace reports whether c is JSON white space.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n'
}

// parseLines parses NDJSON: one reading per non-blank line. A line that
// is not a JSON value is an Item with Err; only a body none of whose lines
// is JSON is malformed.
func (p *Parser) parseLines(body []byte, now time.Time) ([]Item, error) {
	var (
		items   = make([]Item, 0, bytes.Count(body, []byte("\n"))+1)
		badJSON int
		lastErr error
		dec     decoder
	)
	for len(body) > 0 {
		var line []byte
		line, body, _ = bytes.Cut(body, []byte("\n"))
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}

		v, err := dec.decode(line)
		if err != nil {
			badJSON, lastErr = badJSON+1, err
			ferr := &FieldError{Index: len(items), Reason: err.Error()}
			items = append(items, Item{Index: len(items), Raw: line, Err: ferr})
			continue
		}
		items = append(items, p.item(len(items), line, v, now))
	}

	switch {
	case len(items) == 0:
		return nil, fmt.Errorf("%w: empty body", ErrMalformedBody)
	case badJSON == len(items):
		return nil, fmt.Errorf("%w: no line is JSON: %w", ErrMalformedBody, lastErr)
	}
	return items, nil
}
