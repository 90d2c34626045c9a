package config_test

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/routerlogger/routerlogger/internal/config"
)

// testCase is one resolution of a single setting of type T.
type testCase[T comparable] struct {
	name    string
	args    []string
	env     map[string]string
	want    T
	wantErr string
}

// newSet returns a parsed-later flag set and a Set reading env from a map.
func newSet(t testing.TB, env map[string]string) (*flag.FlagSet, *config.Set) {
	t.Helper()

	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)

	return fs, config.NewSet(fs, func(k string) string { return env[k] })
}

// parseAndResolve parses args and resolves the set, failing on parse errors.
func parseAndResolve(t testing.TB, fs *flag.FlagSet, s *config.Set, args []string) error {
	t.Helper()

	if err := fs.Parse(args); err != nil {
		t.Fatalf("parse %q: %v", args, err)
	}

	return s.Resolve()
}

// runCases registers one setting per case and checks its value or error.
func runCases[T comparable](
	t *testing.T, cases []testCase[T], register func(s *config.Set) *T,
) {
	t.Helper()

	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			fs, s := newSet(t, tt.env)
			got := register(s)

			err := parseAndResolve(t, fs, s, tt.args)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("Resolve() error = %v, want %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Resolve() error = %v", err)
			}
			if *got != tt.want {
				t.Errorf("value = %v, want %v", *got, tt.want)
			}
		})
	}
}

func TestSet_Int(t *testing.T) {
	envs := []string{"ROUTERLOGGER_WRITER_BATCH", "WRITER_BATCH"}
	cases := []testCase[int64]{
		{name: "default", want: 500},
		{name: "first env", env: map[string]string{envs[0]: "7", envs[1]: "8"}, want: 7},
		{name: "empty env is unset", env: map[string]string{envs[0]: "", envs[1]: "8"}, want: 8},
		{name: "flag beats env", args: []string{"--writer-batch=9"},
			env: map[string]string{envs[0]: "7"}, want: 9},
		{name: "single dash flag", args: []string{"-writer-batch", "10"}, want: 10},
		{name: "spaces trimmed", env: map[string]string{envs[0]: " 11 "}, want: 11},
		{name: "minimum", env: map[string]string{envs[0]: "1"}, want: 1},
		{name: "maximum", env: map[string]string{envs[0]: "100000"}, want: 100000},
		{name: "not a number", env: map[string]string{envs[0]: "abc"},
			wantErr: `ROUTERLOGGER_WRITER_BATCH="abc": not a whole number (allowed 1 to 100000)`},
		{name: "fraction", env: map[string]string{envs[1]: "1.5"},
			wantErr: `WRITER_BATCH="1.5": not a whole number (allowed 1 to 100000)`},
		{name: "below", args: []string{"--writer-batch=0"},
			wantErr: `--writer-batch="0": below the minimum 1 (allowed 1 to 100000)`},
		{name: "above", env: map[string]string{envs[0]: "100001"},
			wantErr: `ROUTERLOGGER_WRITER_BATCH="100001": above the maximum 100000 ` +
				`(allowed 1 to 100000)`},
		{name: "overflow", env: map[string]string{envs[0]: "99999999999999999999"},
			wantErr: `ROUTERLOGGER_WRITER_BATCH="99999999999999999999": above the maximum ` +
				`100000 (allowed 1 to 100000)`},
		{name: "negative overflow", env: map[string]string{envs[0]: "-99999999999999999999"},
			wantErr: `ROUTERLOGGER_WRITER_BATCH="-99999999999999999999": below the minimum ` +
				`1 (allowed 1 to 100000)`},
		{name: "explicit empty flag", args: []string{"--writer-batch="},
			env:     map[string]string{envs[0]: "7"},
			wantErr: `--writer-batch="": not a whole number (allowed 1 to 100000)`},
	}

	runCases(t, cases, func(s *config.Set) *int64 {
		return s.Int("writer-batch", envs, 500, 1, 100000, "rows per batch")
	})
}

func TestSet_Int_overflowAtInt64Limit(t *testing.T) {
	fs, s := newSet(t, map[string]string{"N": "9223372036854775808"})
	s.Int("n", []string{"N"}, 0, 0, math.MaxInt64, "n")

	err := parseAndResolve(t, fs, s, nil)

	want := `N="9223372036854775808": above the maximum 9223372036854775807 ` +
		`(allowed 0 to 9223372036854775807)`
	if err == nil || err.Error() != want {
		t.Errorf("Resolve() error = %v, want %s", err, want)
	}
}

func TestSet_Duration(t *testing.T) {
	env := "ROUTERLOGGER_SHUTDOWN_TIMEOUT"
	cases := []testCase[time.Duration]{
		{name: "default", want: 15 * time.Second},
		{name: "env", env: map[string]string{env: "1m30s"}, want: 90 * time.Second},
		{name: "flag beats env", args: []string{"--shutdown-timeout", "250ms"},
			env: map[string]string{env: "1m"}, want: 250 * time.Millisecond},
		{name: "bare zero", env: map[string]string{env: "0"}, want: 0},
		{name: "maximum", env: map[string]string{env: "10m"}, want: 10 * time.Minute},
		{name: "below", args: []string{"--shutdown-timeout=-5s"},
			wantErr: `--shutdown-timeout="-5s": below the minimum 0s (allowed 0s to 10m0s)`},
		{name: "above", env: map[string]string{env: "1h"},
			wantErr: `ROUTERLOGGER_SHUTDOWN_TIMEOUT="1h": above the maximum 10m0s ` +
				`(allowed 0s to 10m0s)`},
		{name: "bare number", env: map[string]string{env: "30"},
			wantErr: `ROUTERLOGGER_SHUTDOWN_TIMEOUT="30": not a duration: missing a unit, ` +
				`write e.g. "30s" (allowed 0s to 10m0s)`},
		{name: "garbage", env: map[string]string{env: "soon"},
			wantErr: `ROUTERLOGGER_SHUTDOWN_TIMEOUT="soon": not a duration such as 30s ` +
				`or 1m30s (allowed 0s to 10m0s)`},
	}

	runCases(t, cases, func(s *config.Set) *time.Duration {
		return s.Duration("shutdown-timeout", []string{env},
			15*time.Second, 0, 10*time.Minute, "grace period")
	})
}

func TestSet_Bool(t *testing.T) {
	env := "ROUTERLOGGER_VERBOSE"
	cases := []testCase[bool]{
		{name: "default", want: false},
		{name: "bare flag", args: []string{"--verbose"}, want: true},
		{name: "flag false beats env", args: []string{"--verbose=false"},
			env: map[string]string{env: "true"}, want: false},
		{name: "env yes", env: map[string]string{env: "yes"}, want: true},
		{name: "env ON", env: map[string]string{env: "ON"}, want: true},
		{name: "env 0", env: map[string]string{env: "0"}, want: false},
		{name: "bad", env: map[string]string{env: "maybe"},
			wantErr: `ROUTERLOGGER_VERBOSE="maybe": not a boolean ` +
				`(allowed true, false, 1, 0, yes, no, on, off)`},
	}

	runCases(t, cases, func(s *config.Set) *bool {
		return s.Bool("verbose", []string{env}, false, "log more")
	})
}

func TestSet_Enum(t *testing.T) {
	env := "ROUTERLOGGER_LOG_LEVEL"
	cases := []testCase[string]{
		{name: "default", want: "info"},
		{name: "env", env: map[string]string{env: "debug"}, want: "debug"},
		{name: "case folded", args: []string{"--log-level=WARN"}, want: "warn"},
		{name: "bad", env: map[string]string{env: "verbose"},
			wantErr: `ROUTERLOGGER_LOG_LEVEL="verbose": not an allowed value ` +
				`(allowed debug, info, warn, error)`},
	}

	runCases(t, cases, func(s *config.Set) *string {
		return s.Enum("log-level", []string{env}, "info",
			[]string{"debug", "info", "warn", "error"}, "log level")
	})
}

func TestSet_URL(t *testing.T) {
	envs := []string{"ROUTERLOGGER_DATABASE_URL", "DATABASE_URL"}
	ok := "postgres://postgres@127.0.0.1:5432/routerlogger?sslmode=disable"
	cases := []testCase[string]{
		{name: "default empty", want: ""},
		{name: "env", env: map[string]string{envs[1]: ok}, want: ok},
		{name: "flag", args: []string{"--database-url", "postgresql://db.example/x"},
			want: "postgresql://db.example/x"},
		{name: "not a URL", env: map[string]string{envs[1]: "://x"},
			wantErr: `DATABASE_URL="://x": not a URL: missing protocol scheme ` +
				`(allowed schemes postgres, postgresql)`},
		{name: "no scheme", env: map[string]string{envs[0]: "db.example/x"},
			wantErr: `ROUTERLOGGER_DATABASE_URL="db.example/x": not a URL: missing scheme ` +
				`(allowed schemes postgres, postgresql)`},
		{name: "wrong scheme", env: map[string]string{envs[0]: "mysql://db/x"},
			wantErr: `ROUTERLOGGER_DATABASE_URL="mysql://db/x": scheme "mysql" is not ` +
				`allowed (allowed schemes postgres, postgresql)`},
		{name: "no host", env: map[string]string{envs[0]: "postgres:///x"},
			wantErr: `ROUTERLOGGER_DATABASE_URL="postgres:///x": missing host ` +
				`(allowed schemes postgres, postgresql)`},
		{name: "password redacted", env: map[string]string{envs[0]: "mysql://u:hunter2@db/x"},
			wantErr: `ROUTERLOGGER_DATABASE_URL="mysql://u:xxxxx@db/x": scheme "mysql" is ` +
				`not allowed (allowed schemes postgres, postgresql)`},
		{name: "password redacted unparseable",
			env: map[string]string{envs[0]: "postgres://u:hunter2@db:port/x"},
			wantErr: `ROUTERLOGGER_DATABASE_URL="postgres://u:xxxxx@db:port/x": not a URL: ` +
				`invalid port ":port" after host (allowed schemes postgres, postgresql)`},
	}

	runCases(t, cases, func(s *config.Set) *string {
		return s.URL("database-url", envs, "", []string{"postgres", "postgresql"}, "database")
	})
}

func TestSet_URL_anyScheme(t *testing.T) {
	cases := []testCase[string]{
		{name: "any scheme", env: map[string]string{"U": "tcp://127.0.0.1:1883"},
			want: "tcp://127.0.0.1:1883"},
		{name: "no host", env: map[string]string{"U": "tcp:x"},
			wantErr: `U="tcp:x": missing host (allowed any scheme://host...)`},
	}

	runCases(t, cases, func(s *config.Set) *string {
		return s.URL("u", []string{"U"}, "", nil, "u")
	})
}

func TestSet_Addr(t *testing.T) {
	env := "ROUTERLOGGER_HTTP_ADDR"
	cases := []testCase[string]{
		{name: "default", want: "127.0.0.1:8080"},
		{name: "all interfaces", env: map[string]string{env: ":9090"}, want: ":9090"},
		{name: "ipv6", args: []string{"--http-addr=[::1]:80"}, want: "[::1]:80"},
		{name: "port zero", env: map[string]string{env: "localhost:0"}, want: "localhost:0"},
		{name: "empty flag means unset", args: []string{"--http-addr="}, want: ""},
		{name: "missing port", env: map[string]string{env: "localhost"},
			wantErr: `ROUTERLOGGER_HTTP_ADDR="localhost": not host:port: missing port in ` +
				`address (allowed host:port, port 0 to 65535)`},
		{name: "port too big", env: map[string]string{env: "localhost:65536"},
			wantErr: `ROUTERLOGGER_HTTP_ADDR="localhost:65536": port "65536" is not a number ` +
				`from 0 to 65535 (allowed host:port, port 0 to 65535)`},
		{name: "named port", args: []string{"--http-addr", ":http"},
			wantErr: `--http-addr=":http": port "http" is not a number from 0 to 65535 ` +
				`(allowed host:port, port 0 to 65535)`},
	}

	runCases(t, cases, func(s *config.Set) *string {
		return s.Addr("http-addr", []string{env}, "127.0.0.1:8080", "listen address")
	})
}

func TestSet_String(t *testing.T) {
	env := "ROUTERLOGGER_DATA"
	cases := []testCase[string]{
		{name: "default", want: "data"},
		{name: "env kept verbatim", env: map[string]string{env: " a b "}, want: " a b "},
		{name: "explicit empty flag", args: []string{"--data="},
			env: map[string]string{env: "x"}, want: ""},
	}

	runCases(t, cases, func(s *config.Set) *string {
		return s.String("data", []string{env}, "data", "data folder")
	})
}

func TestSet_Secret(t *testing.T) {
	t.Run("resolves", func(t *testing.T) {
		cases := []testCase[string]{
			{name: "unset", want: ""},
			{name: "env", env: map[string]string{"TOKEN": "hunter2"}, want: "hunter2"},
			{name: "flag", args: []string{"--token=s3cret"}, want: "s3cret"},
		}
		runCases(t, cases, func(s *config.Set) *string {
			return s.Secret("token", []string{"TOKEN"}, "API token")
		})
	})

	t.Run("hidden from help", func(t *testing.T) {
		fs, s := newSet(t, map[string]string{"TOKEN": "hunter2"})
		s.Secret("token", []string{"TOKEN"}, "API token")
		if err := parseAndResolve(t, fs, s, nil); err != nil {
			t.Fatal(err)
		}

		var help bytes.Buffer
		fs.SetOutput(&help)
		fs.PrintDefaults()
		if strings.Contains(help.String(), "hunter2") {
			t.Errorf("help shows the secret:\n%s", help.String())
		}
	})
}

func TestSet_Resolve(t *testing.T) {
	t.Run("first bad value in registration order", func(t *testing.T) {
		fs, s := newSet(t, map[string]string{"A": "x", "B": "y"})
		s.Int("a", []string{"A"}, 1, 0, 10, "a")
		s.Int("b", []string{"B"}, 1, 0, 10, "b")

		err := parseAndResolve(t, fs, s, nil)

		var ce *config.Error
		if !errors.As(err, &ce) {
			t.Fatalf("Resolve() error = %v, want *config.Error", err)
		}
		want := config.Error{Name: "A", Value: "x",
			Reason: "not a whole number (allowed 0 to 10)"}
		if *ce != want {
			t.Errorf("error = %#v, want %#v", *ce, want)
		}
	})

	t.Run("panics before parse", func(t *testing.T) {
		_, s := newSet(t, nil)
		defer func() {
			if recover() == nil {
				t.Error("Resolve before Parse did not panic")
			}
		}()
		_ = s.Resolve()
	})
}

func TestSet_registrationPanics(t *testing.T) {
	tests := []struct {
		name     string
		register func(s *config.Set)
	}{
		{"int default out of range", func(s *config.Set) { s.Int("n", nil, 0, 1, 2, "") }},
		{"int empty range", func(s *config.Set) { s.Int("n", nil, 3, 3, 2, "") }},
		{"duration empty range", func(s *config.Set) {
			s.Duration("d", nil, 0, time.Second, 0, "")
		}},
		{"enum default not allowed", func(s *config.Set) {
			s.Enum("e", nil, "x", []string{"a"}, "")
		}},
		{"bad url default", func(s *config.Set) {
			s.URL("u", nil, "http://h", []string{"tcp"}, "")
		}},
		{"bad addr default", func(s *config.Set) { s.Addr("a", nil, "nope", "") }},
		{"duplicate name", func(s *config.Set) {
			s.String("x", nil, "", "")
			s.String("x", nil, "", "")
		}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, s := newSet(t, nil)
			defer func() {
				if recover() == nil {
					t.Error("registration did not panic")
				}
			}()
			tt.register(s)
		})
	}
}

func TestSet_Envs(t *testing.T) {
	_, s := newSet(t, nil)
	s.String("a", []string{"ROUTERLOGGER_A", "A"}, "", "")
	s.Bool("b", nil, false, "")
	s.Int("c", []string{"ROUTERLOGGER_C", "A"}, 0, 0, 1, "")

	got := strings.Join(s.Envs(), ",")

	if want := "ROUTERLOGGER_A,A,ROUTERLOGGER_C"; got != want {
		t.Errorf("Envs() = %s, want %s", got, want)
	}
}

func TestSet_Source(t *testing.T) {
	fs, s := newSet(t, map[string]string{"ENV_B": "2"})
	s.Int("a", []string{"ENV_A"}, 0, 0, 9, "")
	s.Int("b", []string{"ENV_A", "ENV_B"}, 0, 0, 9, "")
	s.Int("c", []string{"ENV_C"}, 0, 0, 9, "")
	if got := s.Source("a"); got != "" {
		t.Errorf("Source before Resolve = %q, want empty", got)
	}

	if err := parseAndResolve(t, fs, s, []string{"--a=1"}); err != nil {
		t.Fatal(err)
	}

	want := map[string]string{"a": "--a", "b": "ENV_B", "c": config.SourceDefault, "zz": ""}
	for name, w := range want {
		if got := s.Source(name); got != w {
			t.Errorf("Source(%q) = %q, want %q", name, got, w)
		}
	}
}

func TestSet_usage(t *testing.T) {
	fs, s := newSet(t, nil)
	s.Duration("timeout", []string{"ROUTERLOGGER_TIMEOUT", "TIMEOUT"},
		time.Second, 0, time.Minute, "request timeout")

	var help bytes.Buffer
	fs.SetOutput(&help)
	fs.PrintDefaults()

	for _, want := range []string{
		"request timeout (env ROUTERLOGGER_TIMEOUT, TIMEOUT)", "(default 1s)",
	} {
		if !strings.Contains(help.String(), want) {
			t.Errorf("help lacks %q:\n%s", want, help.String())
		}
	}
}

func TestError_Error(t *testing.T) {
	err := &config.Error{Name: "X", Value: "a\nb", Reason: "bad"}

	if got, want := err.Error(), `X="a\nb": bad`; got != want {
		t.Errorf("Error() = %s, want %s", got, want)
	}
}
