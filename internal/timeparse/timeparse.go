// Package timeparse parses the timestamps routers, portals and CSV exports
// send, and always returns UTC.
//
// [Parse] accepts only layouts that cannot be misread:
//
//   - RFC 3339 / ISO 8601 with an offset, with or without fractional
//     seconds: 2025-03-14T10:05:00Z, 2025-03-14T10:05:00.123+01:00,
//     2025-03-14T10:05:00+0100, 2025-03-14T10:05:00+01; a space may
//     replace the T, and a space may precede the offset
//     (2025-03-14 10:05:00 +0000, the PostgreSQL style 2025-03-14 10:05:00+00).
//   - Naive ISO 8601 without an offset, which means UTC whatever the
//     process time zone is: 2025-03-14T10:05:00, 2025-03-14 10:05:00,
//     2025/03/14 10:05:00 (fractional seconds allowed).
//   - The unix date(1) style, Mon Jun 27 09:28:11 UTC 2022, with a numeric
//     offset instead of the zone name, or with no zone at all (UTC).
//   - RFC 1123 (HTTP dates), Fri, 14 Mar 2025 10:05:00 GMT or with a
//     numeric offset.
//   - Unix epoch seconds or milliseconds as a decimal string, optionally
//     with a fraction. Values below [MillisThreshold] (1e11) are seconds,
//     values from it up to 1e14 are milliseconds; 1e11 seconds is the
//     year 5138 while 1e11 milliseconds is March 1973, so every plausible
//     router clock falls clearly on one side. Negative values and values
//     of 1e14 or more (microseconds, nanoseconds) are errors.
//
// Zone abbreviations other than UTC, GMT, UT and Z are refused: "EST" or
// "CET" would otherwise be read as UTC (Go's time package does that for
// names it does not know) or depend on the process time zone. Day/month
// orders such as 02/01/2006 are never guessed by Parse; [Guess] accepts
// them only when the samples settle the order.
package timeparse

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// MillisThreshold is the epoch value from which a number is read as
// milliseconds rather than seconds.
const MillisThreshold = 1e11

// maxEpochMillis bounds epoch milliseconds; larger values are taken to be
// micro- or nanoseconds, which routers do not send, and are refused.
const maxEpochMillis = 1e14

var (
	// errEmpty is returned for an empty or blank timestamp.
	errEmpty = errors.New("timeparse: empty timestamp")
	// errShape is returned by a layout whose date shape differs from the
	// input's; Parse then tries the next layout.
	errShape = errors.New("date separators do not match the layout")
	// errZone marks a zone abbreviation that does not name UTC.
	errZone = errors.New("zone abbreviations other than UTC and GMT are ambiguous, " +
		"use a numeric offset")
)

// layout is one accepted text layout.
type layout struct {
	// name is shown by Guess and in errors.
	name string
	// layout is the Go reference layout.
	layout string
	// zoneName is set when the layout carries a zone abbreviation (MST),
	// which must then be UTC or GMT.
	zoneName bool
}

// layouts are the unambiguous text layouts Parse tries, most common
// first. Every layout is parsed in UTC, so naive times mean UTC.
var layouts = []layout{
	{name: "RFC 3339", layout: time.RFC3339},
	{name: "ISO 8601 offset without colon", layout: "2006-01-02T15:04:05Z0700"},
	{name: "ISO 8601 hour offset", layout: "2006-01-02T15:04:05Z07"},
	{name: "ISO 8601 naive (UTC)", layout: "2006-01-02T15:04:05"},
	{name: "2006-01-02 15:04:05 (UTC)", layout: "2006-01-02 15:04:05"},
	{name: "2006-01-02 15:04:05Z07:00", layout: "2006-01-02 15:04:05Z07:00"},
	{name: "2006-01-02 15:04:05Z0700", layout: "2006-01-02 15:04:05Z0700"},
	{name: "2006-01-02 15:04:05Z07", layout: "2006-01-02 15:04:05Z07"},
	{name: "2006-01-02 15:04:05 Z07:00", layout: "2006-01-02 15:04:05 Z07:00"},
	{name: "2006-01-02 15:04:05 Z0700", layout: "2006-01-02 15:04:05 Z0700"},
	{name: "2006-01-02 15:04:05 UTC", layout: "2006-01-02 15:04:05 MST", zoneName: true},
	{name: "2006/01/02 15:04:05 (UTC)", layout: "2006/01/02 15:04:05"},
	{name: "unix date", layout: time.UnixDate, zoneName: true},
	{name: "unix date numeric offset", layout: "Mon Jan _2 15:04:05 -0700 2006"},
	{name: "ANSI C (UTC)", layout: time.ANSIC},
	{name: "RFC 1123", layout: time.RFC1123, zoneName: true},
	{name: "RFC 1123 numeric offset", layout: time.RFC1123Z},
}

// Parse parses one timestamp in any of the layouts listed in the package
// documentation and returns it in UTC.
func Parse(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, errEmpty
	}
	if isNumeric(s) {
		return parseEpoch(s)
	}

	var zoneErr error
	for i := range layouts {
		t, err := layouts[i].parse(s)
		if err == nil {
			return t, nil
		}
		if errors.Is(err, errZone) {
			zoneErr = err
		}
	}
	if zoneErr != nil {
		return time.Time{}, fmt.Errorf("timeparse: %w", zoneErr)
	}
	return time.Time{}, fmt.Errorf("timeparse: %q matches no known layout "+
		"(RFC 3339, naive ISO 8601 as UTC, unix date, RFC 1123 or epoch)", s)
}

// ParseNumber parses a JSON number as epoch seconds, or milliseconds from
// [MillisThreshold] on, and returns it in UTC.
func ParseNumber(f float64) (time.Time, error) {
	switch {
	case math.IsNaN(f) || math.IsInf(f, 0):
		return time.Time{}, fmt.Errorf("timeparse: epoch value %v is not a finite number", f)
	case f < 0:
		return time.Time{}, fmt.Errorf("timeparse: epoch value %v is negative", f)
	case f >= maxEpochMillis:
		return time.Time{}, fmt.Errorf("timeparse: epoch value %v is too large "+
			"(want seconds, or milliseconds below 1e14)", f)
	case f >= MillisThreshold:
		ms := math.Floor(f)
		ns := math.Round((f - ms) * 1e6)
		return time.UnixMilli(int64(ms)).Add(time.Duration(ns)).UTC(), nil
	}
	sec := math.Floor(f)
	ns := math.Round((f - sec) * 1e9)
	return time.Unix(int64(sec), int64(ns)).UTC(), nil
}

// parse parses s with l, in UTC.
func (l *layout) parse(s string) (time.Time, error) {
	if !l.shapeMatches(s) {
		return time.Time{}, errShape
	}
	t, err := time.ParseInLocation(l.layout, s, time.UTC)
	if err != nil {
		return time.Time{}, err
	}
	if l.zoneName {
		if name, off := t.Zone(); off != 0 || !isUTCName(name) {
			return time.Time{}, fmt.Errorf("%q has zone %q: %w", s, name, errZone)
		}
	}
	return t.UTC(), nil
}

// shapeMatches is a cheap pre-check for the numeric date layouts, which
// saves building a time.ParseError for each layout that cannot match: the
// date separators and the date/time separator must be the layout's.
func (l *layout) shapeMatches(s string) bool {
	if !strings.HasPrefix(l.layout, "2006") {
		return true
	}
	return len(s) > 10 && s[4] == l.layout[4] && s[7] == l.layout[7] && s[10] == l.layout[10]
}

// isUTCName reports whether a zone abbreviation unambiguously means UTC.
func isUTCName(name string) bool {
	switch name {
	case "UTC", "GMT", "UT", "Z":
		return true
	}
	return false
}

// isNumeric reports whether s looks like a decimal number: an optional
// sign, digits, an optional fraction and an optional exponent.
func isNumeric(s string) bool {
	i := 0
	if s[0] == '-' || s[0] == '+' {
		i++
	}
	digits := 0
	for ; i < len(s) && (isDigit(s[i]) || s[i] == '.'); i++ {
		if s[i] != '.' {
			digits++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '-' || s[i] == '+') {
			i++
		}
		for ; i < len(s) && isDigit(s[i]); i++ {
		}
	}
	return digits > 0 && i == len(s)
}

// isDigit reports whether c is an ASCII digit.
func isDigit(c byte) bool {
	return c >= '0' && c <= '9'
}

// parseEpoch parses a numeric string as epoch seconds or milliseconds.
// Plain decimals are parsed exactly; exponent forms go through float64.
func parseEpoch(s string) (time.Time, error) {
	if strings.ContainsAny(s, "eE") {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("timeparse: epoch value %q: %w", s, err)
		}
		return ParseNumber(f)
	}

	s = strings.TrimPrefix(s, "+")
	if strings.HasPrefix(s, "-") {
		return time.Time{}, fmt.Errorf("timeparse: epoch value %q is negative", s)
	}
	whole, frac, _ := strings.Cut(s, ".")
	if strings.Contains(frac, ".") {
		return time.Time{}, fmt.Errorf("timeparse: epoch value %q has two decimal points", s)
	}
	if whole == "" {
		whole = "0"
	}

	n, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || n >= maxEpochMillis {
		return time.Time{}, fmt.Errorf("timeparse: epoch value %q is too large "+
			"(want seconds, or milliseconds below 1e14)", s)
	}
	if n >= MillisThreshold {
		return time.UnixMilli(n).Add(time.Duration(fraction(frac, 6))).UTC(), nil
	}
	return time.Unix(n, fraction(frac, 9)).UTC(), nil
}

// fraction returns the decimal fraction digits frac scaled to 10^scale,
// truncating digits beyond that precision.
func fraction(frac string, scale int) int64 {
	var v int64
	for i := 0; i < scale; i++ {
		v *= 10
		if i < len(frac) {
			v += int64(frac[i] - '0')
		}
	}
	return v
}
