package reading

import (
	"encoding/json"
	"errors"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// Bounds on number literals. A literal such as 1e999999 is cheap to send
// and costly to evaluate exactly (math/big, which the schema validator
// uses for integer and range checks), so longer literals and larger
// exponents are refused before anything evaluates them.
const (
	maxNumberLen = 64
	maxExponent  = 400
)

// Why a value is not a usable number.
var (
	errNotNumber  = errors.New("not a number")
	errFractional = errors.New("not an integer")
	errRange      = errors.New("outside the int64 range")
)

// isUnknown reports whether v is one of the spellings of "unknown":
// null, "" or "N/A".
func isUnknown(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == "" || x == "N/A"
	}
	return false
}

// jsonType names the JSON type of a decoded value, for error messages.
func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "unknown"
}

// numberText returns the literal of a JSON number or a numeric string.
// Strings are trimmed and may not use exponents (the schema's pattern);
// literals over maxNumberLen bytes or with an exponent beyond maxExponent
// are refused.
func numberText(v any) (string, error) {
	var s string
	switch x := v.(type) {
	case json.Number:
		s = string(x)
	case string:
		s = strings.TrimSpace(x)
		if exponentAt(s) >= 0 {
			return "", errNotNumber
		}
	default:
		return "", errNotNumber
	}

	if len(s) > maxNumberLen || !isDecimal(s) {
		return "", errNotNumber
	}
	if i := exponentAt(s); i >= 0 {
		exp, err := strconv.Atoi(strings.TrimPrefix(s[i+1:], "+"))
		if err != nil || exp > maxExponent || exp < -maxExponent {
			return "", errRange
		}
	}
	return s, nil
}

// exponentAt returns the index of the exponent marker e or E in s, or -1.
func exponentAt(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] == 'e' || s[i] == 'E' {
			return i
		}
	}
	return -1
}

// isDecimal reports whether s is a decimal number: an optional minus,
// digits (leading zeros allowed), an optional fraction and an optional
// exponent.
func isDecimal(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	i, ok := digits(s, i)
	if !ok {
		return false
	}
	if i < len(s) && s[i] == '.' {
		if i, ok = digits(s, i+1); !ok {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i, ok = digits(s, i); !ok {
			return false
		}
	}
	return i == len(s)
}

// digits skips the ASCII digits of s from i and reports whether there was
// at least one.
func digits(s string, i int) (int, bool) {
	start := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i, i > start
}

// intValue returns a JSON number or numeric string as an int64. Integral
// floats (42.0, "42.0", 4.2e1) are integers; the value is never rounded
// through float64, so counters above 2^53 stay exact.
func intValue(v any) (int64, error) {
	s, err := numberText(v)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err == nil {
		return n, nil
	}
	if errors.Is(err, strconv.ErrRange) {
		return 0, errRange
	}
	return exactInt(s)
}

// exactInt converts a decimal literal with a fraction or exponent (already
// bounded by numberText) to an int64, exactly.
func exactInt(s string) (int64, error) {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return 0, errNotNumber
	}
	if !r.IsInt() {
		return 0, errFractional
	}
	if !r.Num().IsInt64() {
		return 0, errRange
	}
	return r.Num().Int64(), nil
}

// floatValue returns a JSON number or numeric string as a float64.
func floatValue(v any) (float64, error) {
	s, err := numberText(v)
	if err != nil {
		return 0, err
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, errRange
	}
	return f, nil
}

// textValue returns v as text: a trimmed string, or a number as its
// integer text (or its literal when it is not integral). ok is false for
// booleans, arrays and objects. Unknown spellings give "".
func textValue(v any) (s string, ok bool) {
	switch x := v.(type) {
	case nil:
		return "", true
	case string:
		s = strings.TrimSpace(x)
		if s == "N/A" {
			return "", true
		}
		return s, true
	case json.Number:
		if n, err := intValue(x); err == nil {
			return strconv.FormatInt(n, 10), true
		}
		return string(x), true
	}
	return "", false
}
