package mac_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/routerlogger/routerlogger/internal/mac"
)

// canonical is the only form Parse may return.
var canonical = regexp.MustCompile(`^[0-9A-F]{2}(:[0-9A-F]{2}){5}$`)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"bare upper", "001E42A00110", "00:1E:42:A0:01:10"},
		{"bare lower", "001e42a00110", "00:1E:42:A0:01:10"},
		{"colon upper", "00:1E:42:A0:01:10", "00:1E:42:A0:01:10"},
		{"colon lower", "00:1e:42:a0:03:30", "00:1E:42:A0:03:30"},
		{"dash", "00-1E-42-A0-02-20", "00:1E:42:A0:02:20"},
		{"dash mixed case", "02-00-00-aB-cD-eF", "02:00:00:AB:CD:EF"},
		{"cisco dotted", "001e.42a0.0110", "00:1E:42:A0:01:10"},
		{"cisco dotted upper", "001E.42A0.0110", "00:1E:42:A0:01:10"},
		{"surrounding space", "  00:1E:42:A0:01:12\n", "00:1E:42:A0:01:12"},
		{"all f", "ffffffffffff", "FF:FF:FF:FF:FF:FF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := mac.Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q) error: %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("Parse(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestParse_errors(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr string
	}{
		{"empty", "", "empty address"},
		{"blank", "   ", "empty address"},
		{"mixed colon dash", "00:1E-42:A0:01:10", `mixed separators ':' and '-'`},
		{"mixed dot colon", "001e.42a0:0110", `mixed separators '.' and ':'`},
		{"bare short", "001E42A001", "want 12 hex digits, got 10"},
		{"bare long", "001E42A0011012", "want 12 hex digits, got 14"},
		{"colon five groups", "00:1E:42:A0:01", "want 12 hex digits, got 10"},
		{"colon seven groups", "00:1E:42:A0:01:10:11", "want 12 hex digits, got 14"},
		{"non hex", "00:1E:42:A0:01:1G", `invalid character 'G' at position 16`},
		{"non hex bare", "001E42A0011Z", `invalid character 'Z' at position 11`},
		{"space inside", "00 1E 42 A0 01 10", `invalid character ' ' at position 2`},
		{"colon groups of four", "001E:42A0:0110", "group of 4 hex digits at position 0, want 2"},
		{"dot groups of two", "00.1E.42.A0.01.10", "group of 2 hex digits at position 0, want 4"},
		{"single digit group", "0:1E:42:A0:01:100", "group of 1 hex digits at position 0, want 2"},
		{"trailing separator", "00:1E:42:A0:01:10:", "group of 0 hex digits at position 18, want 2"},
		{"leading separator", ":00:1E:42:A0:01:10", "group of 0 hex digits at position 0, want 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := mac.Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %q, want error containing %q", tt.in, got, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Parse(%q) error = %q, want it to contain %q", tt.in, err, tt.wantErr)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"001E42A00110", "00:1E:42:A0:01:10", "00-1e-42-a0-01-10", "001e.42a0.0110",
		"00:1E-42:A0:01:10", "001E42A001", ":::::", "..", "", " 0 ", "ÿÿÿÿÿÿÿÿÿÿÿÿ",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := mac.Parse(s)
		if err != nil {
			if got != "" {
				t.Fatalf("Parse(%q) returned %q with error %v", s, got, err)
			}
			return
		}
		if !canonical.MatchString(got) {
			t.Fatalf("Parse(%q) = %q, not canonical", s, got)
		}
		again, err := mac.Parse(got)
		if err != nil || again != got {
			t.Fatalf("Parse(%q) = %q, %v; want %q, nil", got, again, err, got)
		}
	})
}

func BenchmarkParse(b *testing.B) {
	for b.Loop() {
		if _, err := mac.Parse("001e.42a0.0110"); err != nil {
			b.Fatal(err)
		}
	}
}
