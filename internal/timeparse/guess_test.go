package timeparse_test

import (
	"strings"
	"testing"
	"time"

	"github.com/routerlogger/routerlogger/internal/timeparse"
)

func TestGuess(t *testing.T) {
	tests := []struct {
		name     string
		samples  []string
		wantName string
		// probe is parsed with the returned func and must give want.
		probe string
		want  time.Time
	}{
		{
			name:     "rfc3339",
			samples:  []string{"2025-03-14T10:05:00Z", "2025-03-14T11:05:00+01:00"},
			wantName: "RFC 3339",
			probe:    "2025-03-14T10:05:00Z", want: utc(2025, 3, 14, 10, 5, 0, 0),
		},
		{
			name:     "naive space skips blanks",
			samples:  []string{"2025-03-14 10:05:00", "", "  ", "2025-03-14 10:10:00"},
			wantName: "2006-01-02 15:04:05 (UTC)",
			probe:    "2025-03-14 10:05:00", want: utc(2025, 3, 14, 10, 5, 0, 0),
		},
		{
			name:     "epoch",
			samples:  []string{"1741946700", "1741946700123"},
			wantName: "epoch seconds (milliseconds from 1e11)",
			probe:    "1741946700", want: utc(2025, 3, 14, 10, 5, 0, 0),
		},
		{
			name:     "day first settled by a day above 12",
			samples:  []string{"03/04/2025 10:05:00", "14/03/2025 10:05:00"},
			wantName: "02/01/2006 15:04:05 (day first, UTC)",
			probe:    "03/04/2025 10:05:00", want: utc(2025, 4, 3, 10, 5, 0, 0),
		},
		{
			name:     "month first settled by a day above 12",
			samples:  []string{"03/04/2025 10:05:00", "03/14/2025 10:05:00"},
			wantName: "01/02/2006 15:04:05 (month first, UTC)",
			probe:    "03/04/2025 10:05:00", want: utc(2025, 3, 4, 10, 5, 0, 0),
		},
		{
			name:     "day first without seconds",
			samples:  []string{"14/03/2025 10:05"},
			wantName: "02/01/2006 15:04 (day first, UTC)",
			probe:    "01/02/2025 10:05", want: utc(2025, 2, 1, 10, 5, 0, 0),
		},
		{
			name:     "dotted day first",
			samples:  []string{"14.03.2025 10:05:00"},
			wantName: "02.01.2006 15:04:05 (UTC)",
			probe:    "01.02.2025 10:05:00", want: utc(2025, 2, 1, 10, 5, 0, 0),
		},
		{
			name:     "mixed unambiguous layouts",
			samples:  []string{"2025-03-14T10:05:00Z", "1741946700"},
			wantName: "mixed (each value detected by Parse)",
			probe:    "1741946700", want: utc(2025, 3, 14, 10, 5, 0, 0),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parse, name, err := timeparse.Guess(tt.samples)
			if err != nil {
				t.Fatalf("Guess(%q) error: %v", tt.samples, err)
			}
			if name != tt.wantName {
				t.Errorf("Guess(%q) name = %q, want %q", tt.samples, name, tt.wantName)
			}
			got, err := parse(tt.probe)
			if err != nil {
				t.Fatalf("guessed %q: parse(%q) error: %v", name, tt.probe, err)
			}
			if !got.Equal(tt.want) || got.Location() != time.UTC {
				t.Errorf("guessed %q: parse(%q) = %v, want %v in UTC", name, tt.probe, got, tt.want)
			}
		})
	}
}

func TestGuess_strictLayout(t *testing.T) {
	parse, name, err := timeparse.Guess([]string{"2025-03-14 10:05:00"})
	if err != nil {
		t.Fatalf("Guess error: %v", err)
	}
	if got, err := parse("2025-03-14T10:05:00Z"); err == nil {
		t.Errorf("guessed %q parsed another layout: %v, want error", name, got)
	}
}

func TestGuess_errors(t *testing.T) {
	tests := []struct {
		name    string
		samples []string
		wantErr string
	}{
		{"no samples", nil, "no non-blank samples"},
		{"only blanks", []string{"", " "}, "no non-blank samples"},
		{"ambiguous day month", []string{"03/04/2025 10:05:00", "05/06/2025 10:05:00"}, "ambiguous"},
		{"unknown", []string{"2025-03-14T10:05:00Z", "soon"},
			`sample 1 "soon" matches no known layout`},
		{
			"day first and month first mixed",
			[]string{"14/03/2025 10:05:00", "03/14/2025 10:05:00"},
			"no single layout parses all 2 samples",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, name, err := timeparse.Guess(tt.samples)
			if err == nil {
				t.Fatalf("Guess(%q) = %q, want error containing %q", tt.samples, name, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Guess(%q) error = %q, want it to contain %q", tt.samples, err, tt.wantErr)
			}
		})
	}
}
