package reading

import (
	"encoding/json"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// This file holds a small JSON decoder for the ingest hot path. It builds
// the same values as encoding/json's Decoder with UseNumber (objects as
// map[string]any, arrays as []any, numbers as json.Number, invalid UTF-8
// replaced by U+FFFD, the last of duplicate keys kept), which the schema
// validator expects, at about a third of the cost: no reflection, maps
// sized once, and the reading's field names interned. A differential fuzz
// test holds it to encoding/json.

// maxDepth is the nesting limit, encoding/json's.
const maxDepth = 10000

// syntaxError is a JSON syntax error at a byte offset.
type syntaxError struct {
	offset int
	msg    string
}

// Error returns the message with its offset.
func (e *syntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at byte %d: %s", e.offset, e.msg)
}

// member is one decoded object member, held until its object's map is
// built at its final size.
type member struct {
	key string
	val any
}

// decoder decodes JSON values from data.
type decoder struct {
	data  []byte
	pos   int
	depth int
	// members is a stack of the members of the objects being decoded.
	members []member
}

// decodeValue decodes exactly one JSON value; only white space may follow.
func decodeValue(raw []byte) (any, error) {
	var d decoder
	return d.decode(raw)
}

// decode decodes exactly one JSON value from raw, reusing d's buffers.
func (d *decoder) decode(raw []byte) (any, error) {
	d.data, d.pos, d.depth = raw, 0, 0
	v, err := d.value()
	if err != nil {
		return nil, err
	}
	if err := d.end(); err != nil {
		return nil, err
	}
	return v, nil
}

// decodeArray decodes a JSON array and calls fn with each element and its
// raw bytes, in order. Only white space may follow the array.
func decodeArray(raw []byte, fn func(raw []byte, v any)) error {
	d := decoder{data: raw}
	if d.skipSpace(); !d.consume('[') {
		return d.errorf("want '['")
	}
	if d.skipSpace(); d.consume(']') {
		return d.end()
	}

	for {
		d.skipSpace()
		start := d.pos
		v, err := d.value()
		if err != nil {
			return err
		}
		fn(raw[start:d.pos], v)

		d.skipSpace()
		if d.consume(']') {
			return d.end()
		}
		if !d.consume(',') {
			return d.unexpected("',' or ']' after an array element")
		}
	}
}

// end checks that only white space remains.
func (d *decoder) end() error {
	if d.skipSpace(); d.pos < len(d.data) {
		return d.errorf("data after the top-level value")
	}
	return nil
}

// errorf returns a syntax error at the current offset.
func (d *decoder) errorf(format string, args ...any) error {
	return &syntaxError{offset: d.pos, msg: fmt.Sprintf(format, args...)}
}

// unexpected reports the character at the current offset, or the end of
// input, where want was expected.
func (d *decoder) unexpected(want string) error {
	if d.pos >= len(d.data) {
		return d.errorf("unexpected end of input, want %s", want)
	}
	return d.errorf("invalid character %q, want %s", d.data[d.pos], want)
}

// skipSpace advances past JSON white space.
func (d *decoder) skipSpace() {
	for d.pos < len(d.data) && isSpace(d.data[d.pos]) {
		d.pos++
	}
}

// consume advances past c if it is next.
func (d *decoder) consume(c byte) bool {
	if d.pos < len(d.data) && d.data[d.pos] == c {
		d.pos++
		return true
	}
	return false
}

// value decodes the value starting after optional white space.
func (d *decoder) value() (any, error) {
	if d.skipSpace(); d.pos >= len(d.data) {
		return nil, d.unexpected("a value")
	}
	switch c := d.data[d.pos]; {
	case c == '{':
		return d.object()
	case c == '[':
		return d.array()
	case c == '"':
		return d.string()
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number()
	}
	return d.literal()
}

// literal decodes true, false or null.
func (d *decoder) literal() (any, error) {
	for _, lit := range [...]struct {
		text string
		val  any
	}{{"true", true}, {"false", false}, {"null", nil}} {
		end := d.pos + len(lit.text)
		if end <= len(d.data) && string(d.data[d.pos:end]) == lit.text {
			d.pos = end
			return lit.val, nil
		}
	}
	return nil, d.unexpected("a value")
}

// nest enters a nested object or array.
func (d *decoder) nest() error {
	if d.depth++; d.depth > maxDepth {
		return d.errorf("nesting deeper than %d", maxDepth)
	}
	return nil
}

// object decodes an object; the current byte is '{'.
func (d *decoder) object() (any, error) {
	if err := d.nest(); err != nil {
		return nil, err
	}
	d.pos++
	base := len(d.members)

	if d.skipSpace(); !d.consume('}') {
		if err := d.objectMembers(); err != nil {
			d.popMembers(base)
			return nil, err
		}
	}

	m := make(map[string]any, len(d.members)-base)
	for _, kv := range d.members[base:] {
		m[kv.key] = kv.val
	}
	d.popMembers(base)
	d.depth--
	return m, nil
}

// popMembers drops the members above base, which an error may also leave.
func (d *decoder) popMembers(base int) {
	clear(d.members[base:])
	d.members = d.members[:base]
}

// objectMembers decodes an object's members up to and including '}'.
func (d *decoder) objectMembers() error {
	for {
		if d.skipSpace(); d.pos >= len(d.data) || d.data[d.pos] != '"' {
			return d.unexpected("a string key")
		}
		key, err := d.key()
		if err != nil {
			return err
		}
		if d.skipSpace(); !d.consume(':') {
			return d.unexpected("':' after an object key")
		}
		v, err := d.value()
		if err != nil {
			return err
		}
		d.members = append(d.members, member{key: key, val: v})

		if d.skipSpace(); d.consume('}') {
			return nil
		}
		if !d.consume(',') {
			return d.unexpected("',' or '}' after an object member")
		}
	}
}

// array decodes an array; the current byte is '['.
func (d *decoder) array() (any, error) {
	if err := d.nest(); err != nil {
		return nil, err
	}
	d.pos++
	arr := []any{}

	if d.skipSpace(); !d.consume(']') {
		for {
			v, err := d.value()
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
			if d.skipSpace(); d.consume(']') {
				break
			}
			if !d.consume(',') {
				return nil, d.unexpected("',' or ']' after an array element")
			}
		}
	}
	d.depth--
	return arr, nil
}

// number decodes a number as json.Number, checking the JSON grammar:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (d *decoder) number() (any, error) {
	start := d.pos
	d.consume('-')
	switch {
	case d.consume('0'):
	case d.pos < len(d.data) && d.data[d.pos] >= '1' && d.data[d.pos] <= '9':
		d.digits()
	default:
		return nil, d.unexpected("a digit")
	}
	if d.consume('.') && !d.digits() {
		return nil, d.unexpected("a digit after the decimal point")
	}
	if d.consume('e') || d.consume('E') {
		if !d.consume('+') {
			d.consume('-')
		}
		if !d.digits() {
			return nil, d.unexpected("a digit in the exponent")
		}
	}
	return json.Number(d.data[start:d.pos]), nil
}

// digits advances past ASCII digits and reports whether there was one.
func (d *decoder) digits() bool {
	start := d.pos
	for d.pos < len(d.data) && d.data[d.pos] >= '0' && d.data[d.pos] <= '9' {
		d.pos++
	}
	return d.pos > start
}

// string decodes a string value.
func (d *decoder) string() (any, error) {
	s, err := d.text()
	if err != nil {
		return nil, err
	}
	return s, nil
}

// key decodes an object key, reusing the field names of a reading.
func (d *decoder) key() (string, error) {
	start := d.pos + 1
	if end, ok := d.plainString(); ok {
		if k, known := knownKeys[string(d.data[start:end])]; known {
			d.pos = end + 1
			return k, nil
		}
	}
	return d.text()
}

// knownKeys maps the reading's field names to themselves, so that keys
// need no allocation.
var knownKeys = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{
		"device_id", "name", "model", "imei", "iccid", "mac", "wlan_mac", "timestamp", "wan_ip",
		"operator", "mcc", "mnc", "network_type", "cell", "lac", "tac", "cid", "rsrp", "rsrq",
		"sinr", "rssi", "counters", "total_tx_bytes", "total_rx_bytes", "fw_version", "uptime",
		"counter_bits",
	} {
		m[k] = k
	}
	return m
}()

// plainString finds the closing quote of the string at d.pos when the
// string has no escapes, control or non-ASCII bytes.
func (d *decoder) plainString() (end int, ok bool) {
	for i := d.pos + 1; i < len(d.data); i++ {
		switch c := d.data[i]; {
		case c == '"':
			return i, true
		case c == '\\' || c < 0x20 || c >= utf8.RuneSelf:
			return 0, false
		}
	}
	return 0, false
}

// text decodes the string at d.pos, which starts with '"'.
func (d *decoder) text() (string, error) {
	if end, ok := d.plainString(); ok {
		s := string(d.data[d.pos+1 : end])
		d.pos = end + 1
		return s, nil
	}
	d.pos++
	return d.unquote()
}

// unquote decodes the rest of a string with escapes or non-ASCII bytes,
// up to and including the closing quote.
func (d *decoder) unquote() (string, error) {
	var b []byte
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c == '"':
			d.pos++
			return string(b), nil
		case c == '\\':
			var err error
			if b, err = d.escape(b); err != nil {
				return "", err
			}
		case c < 0x20:
			return "", d.errorf("control character %q in a string", c)
		case c < utf8.RuneSelf:
			b = append(b, c)
			d.pos++
		default:
			r, size := utf8.DecodeRune(d.data[d.pos:])
			b = utf8.AppendRune(b, r) // an invalid byte becomes U+FFFD, as in encoding/json
			d.pos += size
		}
	}
	return "", d.unexpected("'\"' closing a string")
}

// escape decodes the escape sequence at d.pos onto b.
func (d *decoder) escape(b []byte) ([]byte, error) {
	if d.pos+1 >= len(d.data) {
		d.pos = len(d.data)
		return nil, d.unexpected("an escape sequence")
	}
	d.pos++
	c := d.data[d.pos]
	d.pos++
	switch c {
	case '"', '\\', '/':
		return append(b, c), nil
	case 'b':
		return append(b, '\b'), nil
	case 'f':
		return append(b, '\f'), nil
	case 'n':
		return append(b, '\n'), nil
	case 'r':
		return append(b, '\r'), nil
	case 't':
		return append(b, '\t'), nil
	case 'u':
		return d.unicodeEscape(b)
	}
	d.pos--
	return nil, d.errorf("invalid escape '\\%c' in a string", c)
}

// unicodeEscape decodes \uXXXX (the \u already read), joining a UTF-16
// surrogate pair; a lone surrogate becomes U+FFFD, as in encoding/json.
func (d *decoder) unicodeEscape(b []byte) ([]byte, error) {
	r, ok := d.hex4(d.pos)
	if !ok {
		return nil, d.errorf("invalid \\u escape in a string")
	}
	d.pos += 4
	if !utf16.IsSurrogate(r) {
		return utf8.AppendRune(b, r), nil
	}
	if d.pos+1 < len(d.data) && d.data[d.pos] == '\\' && d.data[d.pos+1] == 'u' {
		if r2, ok := d.hex4(d.pos + 2); ok {
			if pair := utf16.DecodeRune(r, r2); pair != utf8.RuneError {
				d.pos += 6
				return utf8.AppendRune(b, pair), nil
			}
		}
	}
	return utf8.AppendRune(b, utf8.RuneError), nil
}

// hex4 parses the four hex digits at offset i.
func (d *decoder) hex4(i int) (rune, bool) {
	if i+4 > len(d.data) {
		return 0, false
	}
	var r rune
	for _, c := range d.data[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
