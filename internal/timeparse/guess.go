package timeparse

import (
	"fmt"
	"strings"
	"time"
)

// parseFunc parses one timestamp and returns it in UTC.
type parseFunc func(string) (time.Time, error)

// candidate is one layout Guess may pick.
type candidate struct {
	name  string
	parse parseFunc
	// pair names the candidate with the opposite day/month order; when
	// both parse every sample the order is unknown and Guess refuses.
	pair string
}

// Day/month layouts, accepted only by Guess and only when the samples
// settle which field is the day (some day above 12).
const (
	dayFirst        = "02/01/2006 15:04:05 (day first, UTC)"
	monthFirst      = "01/02/2006 15:04:05 (month first, UTC)"
	dayFirstShort   = "02/01/2006 15:04 (day first, UTC)"
	monthFirstShort = "01/02/2006 15:04 (month first, UTC)"
	dottedDayFirst  = "02.01.2006 15:04:05 (UTC)"
)

// candidates lists, in order, what Guess tries: epoch numbers, each
// unambiguous layout, the day/month layouts, and last Parse itself for a
// column that mixes unambiguous layouts.
func candidates() []candidate {
	c := []candidate{{name: "epoch seconds (milliseconds from 1e11)", parse: parseEpochOnly}}
	for i := range layouts {
		c = append(c, candidate{name: layouts[i].name, parse: layouts[i].strict})
	}
	return append(c,
		candidate{name: dayFirst, parse: naive("02/01/2006 15:04:05"), pair: monthFirst},
		candidate{name: monthFirst, parse: naive("01/02/2006 15:04:05"), pair: dayFirst},
		candidate{name: dayFirstShort, parse: naive("02/01/2006 15:04"), pair: monthFirstShort},
		candidate{name: monthFirstShort, parse: naive("01/02/2006 15:04"), pair: dayFirstShort},
		candidate{name: dottedDayFirst, parse: naive("02.01.2006 15:04:05")},
		candidate{name: "mixed (each value detected by Parse)", parse: Parse},
	)
}

// Guess returns the first layout that parses every non-blank sample,
// with its name, for importers that see a whole column at once. Blank
// samples are skipped. Day/month layouts such as 02/01/2006 are picked
// only when no sample parses in the opposite order; when every sample
// parses both ways Guess returns an error rather than guess.
func Guess(samples []string) (func(string) (time.Time, error), string, error) {
	vals := nonBlank(samples)
	if len(vals) == 0 {
		return nil, "", fmt.Errorf("timeparse: guess layout: no non-blank samples")
	}

	cands := candidates()
	fits := make(map[string]bool, len(cands))
	for _, c := range cands {
		fits[c.name] = parsesAll(c.parse, vals)
	}

	for _, c := range cands {
		if !fits[c.name] {
			continue
		}
		if c.pair != "" && fits[c.pair] {
			return nil, "", fmt.Errorf("timeparse: guess layout: all %d samples parse both as %s "+
				"and as %s; the day/month order is ambiguous", len(vals), c.name, c.pair)
		}
		return c.parse, c.name, nil
	}
	return nil, "", noFitError(cands, vals)
}

// noFitError explains why no candidate parses all samples.
func noFitError(cands []candidate, vals []string) error {
	for i, v := range vals {
		if !parsedByAny(cands, v) {
			return fmt.Errorf("timeparse: guess layout: sample %d %q matches no known layout", i, v)
		}
	}
	return fmt.Errorf("timeparse: guess layout: no single layout parses all %d samples "+
		"(they mix day-first and month-first dates)", len(vals))
}

// parsedByAny reports whether some candidate parses v.
func parsedByAny(cands []candidate, v string) bool {
	for _, c := range cands {
		if _, err := c.parse(v); err == nil {
			return true
		}
	}
	return false
}

// parsesAll reports whether parse accepts every value.
func parsesAll(parse parseFunc, vals []string) bool {
	for _, v := range vals {
		if _, err := parse(v); err != nil {
			return false
		}
	}
	return true
}

// nonBlank returns the samples that are not blank, trimmed.
func nonBlank(samples []string) []string {
	out := make([]string, 0, len(samples))
	for _, s := range samples {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// naive returns a parseFunc for a layout without zone, read as UTC.
func naive(layout string) parseFunc {
	return func(s string) (time.Time, error) {
		t, err := time.ParseInLocation(layout, strings.TrimSpace(s), time.UTC)
		if err != nil {
			return time.Time{}, fmt.Errorf("timeparse: %w", err)
		}
		return t, nil
	}
}

// strict parses s with layout l only.
func (l *layout) strict(s string) (time.Time, error) {
	t, err := l.parse(strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, fmt.Errorf("timeparse: %s: %w", l.name, err)
	}
	return t, nil
}

// parseEpochOnly parses s only if it is an epoch number.
func parseEpochOnly(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" || !isNumeric(s) {
		return time.Time{}, fmt.Errorf("timeparse: %q is not an epoch number", s)
	}
	return parseEpoch(s)
}
