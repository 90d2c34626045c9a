package config

import (
	"cmp"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// redactedValue replaces a secret's value in errors.
const redactedValue = "<redacted>"

// String registers a text setting. Any value is accepted, including "" from
// an explicit empty flag.
func (s *Set) String(name string, envs []string, def, usage string) *string {
	p := new(string)
	parse := func(raw string) error { *p = raw; return nil }
	s.add(&entry{name: name, envs: envs, def: def, parse: parse}, usage, false)

	return p
}

// Secret registers a text setting, such as a password or token, whose value
// is never shown: not in errors and not as a flag default. It has no default.
func (s *Set) Secret(name string, envs []string, usage string) *string {
	p := new(string)
	s.add(&entry{
		name: name, envs: envs,
		parse:  func(raw string) error { *p = raw; return nil },
		redact: func(string) string { return redactedValue },
	}, usage, false)

	return p
}

// Int registers a whole-number setting within min and max, inclusive.
func (s *Set) Int(name string, envs []string, def, min, max int64, usage string) *int64 {
	checkBounds(name, min, max)
	p := new(int64)
	parse := func(raw string) error {
		n, err := parseInt(strings.TrimSpace(raw), min, max)
		if err != nil {
			return err
		}
		*p = n
		return nil
	}
	defText := strconv.FormatInt(def, 10)
	s.add(&entry{name: name, envs: envs, def: defText, parse: parse}, usage, false)

	return p
}

// parseInt parses a base-10 integer and checks it against min and max.
func parseInt(v string, min, max int64) (int64, error) {
	format := func(n int64) string { return strconv.FormatInt(n, 10) }

	n, err := strconv.ParseInt(v, 10, 64)
	if errors.Is(err, strconv.ErrRange) {
		// ParseInt clamps to the int64 limits, which max may equal.
		if strings.HasPrefix(v, "-") {
			return 0, belowMin(min, max, format)
		}
		return 0, aboveMax(min, max, format)
	}
	if err != nil {
		return 0, fmt.Errorf("not a whole number %s", allowedRange(min, max, format))
	}

	return n, checkRange(n, min, max, format)
}

// Duration registers a duration setting within min and max, inclusive. Values
// use Go syntax such as "250ms", "30s" or "1h30m"; see the package doc.
func (s *Set) Duration(
	name string, envs []string, def, min, max time.Duration, usage string,
) *time.Duration {
	checkBounds(name, min, max)
	p := new(time.Duration)
	parse := func(raw string) error {
		d, err := parseDuration(strings.TrimSpace(raw), min, max)
		if err != nil {
			return err
		}
		*p = d
		return nil
	}
	s.add(&entry{name: name, envs: envs, def: def.String(), parse: parse}, usage, false)

	return p
}

// parseDuration parses a Go duration and checks it against min and max.
func parseDuration(v string, min, max time.Duration) (time.Duration, error) {
	format := time.Duration.String

	d, err := time.ParseDuration(v)
	if err != nil && isInteger(v) {
		return 0, fmt.Errorf("not a duration: missing a unit, write e.g. %q %s",
			v+"s", allowedRange(min, max, format))
	}
	if err != nil {
		return 0, fmt.Errorf("not a duration such as 30s or 1m30s %s",
			allowedRange(min, max, format))
	}

	return d, checkRange(d, min, max, format)
}

// isInteger reports whether v is an optionally signed run of digits.
func isInteger(v string) bool {
	_, err := strconv.ParseInt(v, 10, 64)
	return err == nil || errors.Is(err, strconv.ErrRange)
}

// boolWords maps the accepted spellings of a boolean, lower-cased.
var boolWords = map[string]bool{
	"true": true, "false": false, "1": true, "0": false,
	"yes": true, "no": false, "on": true, "off": false,
}

// Bool registers a boolean setting. It accepts true/false, 1/0, yes/no and
// on/off in any case, and a bare --name on the command line means true.
func (s *Set) Bool(name string, envs []string, def bool, usage string) *bool {
	p := new(bool)
	parse := func(raw string) error {
		b, ok := boolWords[strings.ToLower(strings.TrimSpace(raw))]
		if !ok {
			return errors.New("not a boolean (allowed true, false, 1, 0, yes, no, on, off)")
		}
		*p = b
		return nil
	}
	s.add(&entry{name: name, envs: envs, def: strconv.FormatBool(def), parse: parse}, usage, true)

	return p
}

// Enum registers a setting that must be one of allowed. Matching ignores case
// and the pointer receives the spelling from allowed.
func (s *Set) Enum(name string, envs []string, def string, allowed []string, usage string) *string {
	p := new(string)
	reason := fmt.Sprintf("not an allowed value (allowed %s)", strings.Join(allowed, ", "))
	parse := func(raw string) error {
		v := strings.TrimSpace(raw)
		i := slices.IndexFunc(allowed, func(a string) bool { return strings.EqualFold(a, v) })
		if i < 0 {
			return errors.New(reason)
		}
		*p = allowed[i]
		return nil
	}
	s.add(&entry{name: name, envs: envs, def: def, parse: parse}, usage, false)

	return p
}

// URL registers a URL setting whose scheme must be one of schemes (any scheme
// when schemes is empty) and which must name a host. The empty value is
// accepted and means "not set". A password in the URL is redacted in errors.
func (s *Set) URL(name string, envs []string, def string, schemes []string, usage string) *string {
	p := new(string)
	s.add(&entry{
		name: name, envs: envs, def: def,
		parse: func(raw string) error {
			v := strings.TrimSpace(raw)
			if err := checkURL(v, schemes); err != nil {
				return err
			}
			*p = v
			return nil
		},
		redact: redactURL,
	}, usage, false)

	return p
}

// checkURL checks that v is empty or an absolute URL with an allowed scheme
// and a host.
func checkURL(v string, schemes []string) error {
	allowed := "(allowed any scheme://host...)"
	if len(schemes) > 0 {
		allowed = fmt.Sprintf("(allowed schemes %s)", strings.Join(schemes, ", "))
	}
	if v == "" {
		return nil
	}

	u, err := url.Parse(v)
	if ue := (*url.Error)(nil); errors.As(err, &ue) {
		// The inner error only: the outer one repeats the unredacted URL.
		err = ue.Err
	}
	if err != nil {
		return fmt.Errorf("not a URL: %v %s", err, allowed)
	}

	switch {
	case u.Scheme == "":
		return fmt.Errorf("not a URL: missing scheme %s", allowed)
	case len(schemes) > 0 && !slices.Contains(schemes, u.Scheme):
		return fmt.Errorf("scheme %q is not allowed %s", u.Scheme, allowed)
	case u.Hostname() == "":
		return fmt.Errorf("missing host %s", allowed)
	}

	return nil
}

// redactURL hides the password of a URL, even one that does not parse.
func redactURL(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		if _, ok := u.User.Password(); ok {
			return u.Redacted()
		}
		return raw
	}

	// Unparseable: treat everything between "scheme://user:" and the last
	// "@" as the password; hiding too much beats leaking it.
	i := strings.Index(raw, "://")
	if i < 0 {
		return raw
	}
	rest := raw[i+3:]
	at := strings.LastIndex(rest, "@")
	colon := strings.Index(rest, ":")
	if at < 0 || colon < 0 || colon > at {
		return raw
	}

	return raw[:i+3] + rest[:colon+1] + "xxxxx" + rest[at:]
}

// Addr registers a host:port network address setting, port 0 to 65535. The
// host may be empty (all interfaces) and so may the whole value ("not set").
func (s *Set) Addr(name string, envs []string, def, usage string) *string {
	p := new(string)
	parse := func(raw string) error {
		v := strings.TrimSpace(raw)
		if err := checkAddr(v); err != nil {
			return err
		}
		*p = v
		return nil
	}
	s.add(&entry{name: name, envs: envs, def: def, parse: parse}, usage, false)

	return p
}

// checkAddr checks that v is empty or host:port with a port in range.
func checkAddr(v string) error {
	const allowed = "(allowed host:port, port 0 to 65535)"
	if v == "" {
		return nil
	}

	_, port, err := net.SplitHostPort(v)
	if ae := (*net.AddrError)(nil); errors.As(err, &ae) {
		err = errors.New(ae.Err)
	}
	if err != nil {
		return fmt.Errorf("not host:port: %v %s", err, allowed)
	}

	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("port %q is not a number from 0 to 65535 %s", port, allowed)
	}

	return nil
}

// checkBounds panics when a setting's range is empty, a programming error.
func checkBounds[T cmp.Ordered](name string, min, max T) {
	if min > max {
		panic(fmt.Sprintf("config: %s: minimum %v above maximum %v", name, min, max))
	}
}

// checkRange returns an error when v lies outside min and max.
func checkRange[T cmp.Ordered](v, min, max T, format func(T) string) error {
	switch {
	case v < min:
		return belowMin(min, max, format)
	case v > max:
		return aboveMax(min, max, format)
	}

	return nil
}

// belowMin is the error for a value under the minimum.
func belowMin[T any](min, max T, format func(T) string) error {
	return fmt.Errorf("below the minimum %s %s", format(min), allowedRange(min, max, format))
}

// aboveMax is the error for a value over the maximum.
func aboveMax[T any](min, max T, format func(T) string) error {
	return fmt.Errorf("above the maximum %s %s", format(max), allowedRange(min, max, format))
}

// allowedRange describes an inclusive range, e.g. "(allowed 1 to 100000)".
func allowedRange[T any](min, max T, format func(T) string) string {
	return fmt.Sprintf("(allowed %s to %s)", format(min), format(max))
}
