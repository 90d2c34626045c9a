// Package mac parses the MAC address spellings routers, portals and APIs
// send and normalises them to one canonical form, AA:BB:CC:DD:EE:FF.
//
// Accepted forms, in any letter case and with surrounding white space:
//
//	001E42A00110        bare, 12 hex digits
//	00:1E:42:A0:01:10   colon-separated pairs
//	00-1E-42-A0-01-10   dash-separated pairs (CoovaChilli, Windows)
//	001e.42a0.0110      Cisco dotted groups of four
//
// Anything else is an error that says what is wrong: mixed separators,
// the wrong number of hex digits, a non-hex character or a misplaced
// separator.
package mac

import (
	"fmt"
	"strings"
)

// canonicalLen is the length of AA:BB:CC:DD:EE:FF.
const canonicalLen = 17

// hexDigits is the number of hex digits in a 48-bit MAC address.
const hexDigits = 12

// Parse returns s in canonical form AA:BB:CC:DD:EE:FF (upper case, colon
// separated) or an error naming what makes s invalid. Parse is
// idempotent: Parse of its own output returns the output unchanged.
func Parse(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", fmt.Errorf("mac: empty address")
	}

	sep, err := separator(s)
	if err != nil {
		return "", err
	}

	digits, err := collectDigits(s, sep)
	if err != nil {
		return "", err
	}

	return format(digits), nil
}

// separator returns the one separator s uses (0 for a bare address) or an
// error if s mixes separators.
func separator(s string) (byte, error) {
	var sep byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != ':' && c != '-' && c != '.' {
			continue
		}
		if sep != 0 && c != sep {
			return 0, fmt.Errorf("mac: %q has mixed separators %q and %q", s, sep, c)
		}
		sep = c
	}
	return sep, nil
}

// groupLen returns the number of hex digits between two separators.
func groupLen(sep byte) int {
	switch sep {
	case 0:
		return hexDigits
	case '.':
		return 4
	default:
		return 2
	}
}

// collectDigits checks the layout of s and returns its 12 hex digits in
// upper case.
func collectDigits(s string, sep byte) ([hexDigits]byte, error) {
	var digits [hexDigits]byte
	n, inGroup, want := 0, 0, groupLen(sep)

	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == sep && sep != 0 {
			if inGroup != want {
				return digits, fmt.Errorf("mac: %q has a group of %d hex digits at position %d, "+
					"want %d between %q separators", s, inGroup, i-inGroup, want, sep)
			}
			inGroup = 0
			continue
		}
		u, ok := upperHex(c)
		if !ok {
			return digits, fmt.Errorf("mac: %q has invalid character %q at position %d, "+
				"want a hex digit", s, c, i)
		}
		if n < hexDigits {
			digits[n] = u
		}
		n++
		inGroup++
	}

	if n != hexDigits {
		return digits, fmt.Errorf("mac: %q: want %d hex digits, got %d", s, hexDigits, n)
	}
	if inGroup != want {
		return digits, fmt.Errorf("mac: %q has a group of %d hex digits at position %d, "+
			"want %d between %q separators", s, inGroup, len(s)-inGroup, want, sep)
	}
	return digits, nil
}

// upperHex reports whether c is a hex digit and returns it in upper case.
func upperHex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9', c >= 'A' && c <= 'F':
		return c, true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 'A', true
	}
	return 0, false
}

// format writes 12 hex digits as AA:BB:CC:DD:EE:FF.
func format(d [hexDigits]byte) string {
	var b [canonicalLen]byte
	for i := 0; i < hexDigits/2; i++ {
		b[i*3] = d[i*2]
		b[i*3+1] = d[i*2+1]
		if i < hexDigits/2-1 {
			b[i*3+2] = ':'
		}
	}
	return string(b[:])
}
