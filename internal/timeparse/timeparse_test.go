package timeparse_test

import (
	"math"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // America/New_York must load on hosts without zoneinfo.

	"github.com/routerlogger/routerlogger/internal/timeparse"
)

// utc builds an instant in UTC.
func utc(y int, mo time.Month, d, h, mi, s, ns int) time.Time {
	return time.Date(y, mo, d, h, mi, s, ns, time.UTC)
}

// parseCases are inputs every test that runs Parse checks.
var parseCases = []struct {
	name string
	in   string
	want time.Time
}{
	{"rfc3339 Z", "2025-03-14T10:05:00Z", utc(2025, 3, 14, 10, 5, 0, 0)},
	{"rfc3339 fraction", "2025-03-14T10:05:00.123456Z", utc(2025, 3, 14, 10, 5, 0, 123456000)},
	{"rfc3339 offset", "2025-03-14T11:05:00+01:00", utc(2025, 3, 14, 10, 5, 0, 0)},
	{"rfc3339 negative offset", "2025-03-14T05:05:00-05:00", utc(2025, 3, 14, 10, 5, 0, 0)},
	{"offset without colon", "2025-03-14T11:05:00+0100", utc(2025, 3, 14, 10, 5, 0, 0)},
	{"offset without colon fraction", "2025-03-14T11:05:00.5+0100", utc(2025, 3, 14, 10, 5, 0, 5e8)},
	{"hour offset", "2025-03-14T12:05:00+02", utc(2025, 3, 14, 10, 5, 0, 0)},
	{"space offset colon", "2025-03-14 11:05:00+01:00", utc(2025, 3, 14, 10, 5, 0, 0)},
	{"space Z", "2025-03-14 10:05:00Z", utc(2025, 3, 14, 10, 5, 0, 0)},
	{"postgres style", "2025-03-14 10:05:00.25+00", utc(2025, 3, 14, 10, 5, 0, 25e7)},
	{"space before offset", "2025-03-14 11:05:00 +0100", utc(2025, 3, 14, 10, 5, 0, 0)},
	{"space before colon offset", "2025-03-14 11:05:00 +01:00", utc(2025, 3, 14, 10, 5, 0, 0)},
	{"space UTC name", "2025-03-14 10:05:00 UTC", utc(2025, 3, 14, 10, 5, 0, 0)},
	{"naive T", "2025-03-14T10:05:00", utc(2025, 3, 14, 10, 5, 0, 0)},
	{"naive T fraction", "2025-03-14T10:05:00.75", utc(2025, 3, 14, 10, 5, 0, 75e7)},
	{"naive space", "2025-03-14 10:05:00", utc(2025, 3, 14, 10, 5, 0, 0)},
	{"naive slash year first", "2025/03/14 10:05:00", utc(2025, 3, 14, 10, 5, 0, 0)},
	{"unix date", "Mon Jun 27 09:28:11 UTC 2022", utc(2022, 6, 27, 9, 28, 11, 0)},
	{"unix date GMT", "Mon Jun 27 09:28:11 GMT 2022", utc(2022, 6, 27, 9, 28, 11, 0)},
	{"unix date padded day", "Tue Jun  7 09:28:11 UTC 2022", utc(2022, 6, 7, 9, 28, 11, 0)},
	{"unix date offset", "Mon Jun 27 11:28:11 +0200 2022", utc(2022, 6, 27, 9, 28, 11, 0)},
	{"ansi c naive", "Mon Jun 27 09:28:11 2022", utc(2022, 6, 27, 9, 28, 11, 0)},
	{"rfc1123", "Fri, 14 Mar 2025 10:05:00 GMT", utc(2025, 3, 14, 10, 5, 0, 0)},
	{"rfc1123 offset", "Fri, 14 Mar 2025 11:05:00 +0100", utc(2025, 3, 14, 10, 5, 0, 0)},
	{"epoch seconds", "1741946700", utc(2025, 3, 14, 10, 5, 0, 0)},
	{"epoch seconds fraction", "1741946700.25", utc(2025, 3, 14, 10, 5, 0, 25e7)},
	{"epoch seconds nanoseconds", "1741946700.123456789", utc(2025, 3, 14, 10, 5, 0, 123456789)},
	{"epoch milliseconds", "1741946700123", utc(2025, 3, 14, 10, 5, 0, 123e6)},
	{"epoch milliseconds fraction", "1741946700123.5", utc(2025, 3, 14, 10, 5, 0, 123500000)},
	{"epoch exponent", "1.7419467e9", utc(2025, 3, 14, 10, 5, 0, 0)},
	{"epoch zero", "0", time.Unix(0, 0).UTC()},
	{"epoch just below threshold", "99999999999", time.Unix(99999999999, 0).UTC()},
	{"epoch threshold is milliseconds", "100000000000", time.UnixMilli(1e11).UTC()},
	{"surrounding space", " 2025-03-14T10:05:00Z\n", utc(2025, 3, 14, 10, 5, 0, 0)},
}

func TestParse(t *testing.T) {
	for _, tt := range parseCases {
		t.Run(tt.name, func(t *testing.T) {
			got, err := timeparse.Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q) error: %v", tt.in, err)
			}
			if !got.Equal(tt.want) {
				t.Errorf("Parse(%q) = %v, want %v", tt.in, got, tt.want)
			}
			if got.Location() != time.UTC {
				t.Errorf("Parse(%q) location = %v, want UTC", tt.in, got.Location())
			}
		})
	}
}

// TestParse_localZone proves that neither naive timestamps nor anything
// else depend on the process time zone.
func TestParse_localZone(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatalf("load America/New_York: %v", err)
	}
	saved := time.Local
	time.Local = ny
	t.Cleanup(func() { time.Local = saved })

	for _, tt := range parseCases {
		t.Run(tt.name, func(t *testing.T) {
			got, err := timeparse.Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q) error: %v", tt.in, err)
			}
			if !got.Equal(tt.want) || got.Location() != time.UTC {
				t.Errorf("Parse(%q) with TZ New York = %v, want %v in UTC", tt.in, got, tt.want)
			}
		})
	}

	t.Run("EST abbreviation is not read through the local zone", func(t *testing.T) {
		if got, err := timeparse.Parse("Mon Jan 27 09:28:11 EST 2025"); err == nil {
			t.Errorf("Parse(EST) = %v, want error", got)
		}
	})
}

func TestParse_errors(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr string
	}{
		{"empty", "", "empty timestamp"},
		{"blank", "  ", "empty timestamp"},
		{"garbage", "yesterday", "matches no known layout"},
		{"day month ambiguous", "03/04/2025 10:05:00", "matches no known layout"},
		{"bad month", "2025-13-14T10:05:00Z", "matches no known layout"},
		{"bad offset", "2025-03-14T10:05:00+25:00", "matches no known layout"},
		{"unknown zone name", "Mon Jun 27 09:28:11 EST 2022", `has zone "EST"`},
		{"zone name with offset", "Mon Jun 27 09:28:11 GMT+3 2022", `has zone "GMT+3"`},
		{"rfc1123 CET", "Fri, 14 Mar 2025 10:05:00 CET", `has zone "CET"`},
		{"negative epoch", "-1741946700", "is negative"},
		{"two points", "1741946700.1.2", "two decimal points"},
		{"microseconds", "1741946700123456", "too large"},
		{"overflow", "99999999999999999999999", "too large"},
		{"bad exponent", "1e", "epoch value"},
		{"negative exponent form", "-1.7e9", "is negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := timeparse.Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %v, want error containing %q", tt.in, got, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Parse(%q) error = %q, want it to contain %q", tt.in, err, tt.wantErr)
			}
		})
	}
}

func TestParseNumber(t *testing.T) {
	tests := []struct {
		name    string
		in      float64
		want    time.Time
		wantErr bool
	}{
		{"seconds", 1741946700, utc(2025, 3, 14, 10, 5, 0, 0), false},
		{"seconds fraction", 1741946700.5, utc(2025, 3, 14, 10, 5, 0, 5e8), false},
		{"milliseconds", 1741946700123, utc(2025, 3, 14, 10, 5, 0, 123e6), false},
		{"threshold", 1e11, time.UnixMilli(1e11).UTC(), false},
		{"zero", 0, time.Unix(0, 0).UTC(), false},
		{"negative", -1, time.Time{}, true},
		{"microseconds", 1741946700123456, time.Time{}, true},
		{"NaN", math.NaN(), time.Time{}, true},
		{"infinity", math.Inf(1), time.Time{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := timeparse.ParseNumber(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseNumber(%v) = %v, want error", tt.in, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseNumber(%v) error: %v", tt.in, err)
			}
			if !got.Equal(tt.want) || got.Location() != time.UTC {
				t.Errorf("ParseNumber(%v) = %v, want %v in UTC", tt.in, got, tt.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, tt := range parseCases {
		f.Add(tt.in)
	}
	for _, s := range []string{"", "-", ".", "1e999", "+.", "Mon Jun 27 09:28:11 EST 2022", "9e13"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := timeparse.Parse(s)
		if err != nil {
			return
		}
		if got.Location() != time.UTC {
			t.Fatalf("Parse(%q) = %v, not in UTC", s, got)
		}
		if got.Year() < 0 || got.Year() > 9999 {
			return // RFC 3339 cannot spell it; an offset moved year 0000 to -0001.
		}
		again, err := timeparse.Parse(got.Format(time.RFC3339Nano))
		if err != nil || !again.Equal(got) {
			t.Fatalf("Parse(Format(Parse(%q))) = %v, %v; want %v", s, again, err, got)
		}
	})
}

func BenchmarkParse(b *testing.B) {
	for _, in := range []string{"2025-03-14T23:55:05Z", "2025-03-14 10:05:00", "1741946700123"} {
		b.Run(in, func(b *testing.B) {
			for b.Loop() {
				if _, err := timeparse.Parse(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
