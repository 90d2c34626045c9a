package reading_test

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/routerlogger/routerlogger/ingest/reading"
)

// fixtureDir is /work/shared/fixtures seen from this package.
var fixtureDir = filepath.Join("..", "..", "..", "shared", "fixtures")

// fixtureNow is the receive time the fixture day is parsed at.
var fixtureNow = time.Date(2025, 3, 15, 0, 0, 0, 0, time.UTC)

// newParser returns a parser whose clock stands at fixtureNow.
func newParser() *reading.Parser {
	return &reading.Parser{Now: func() time.Time { return fixtureNow }}
}

// readFixture returns a fixture file's bytes.
func readFixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, name))
	if err != nil {
		tb.Fatalf("read fixture: %v", err)
	}
	return b
}

// fixtureLines returns the non-blank lines of the HTTP telemetry fixture.
func fixtureLines(tb testing.TB) [][]byte {
	tb.Helper()
	var lines [][]byte
	sc := bufio.NewScanner(bytes.NewReader(readFixture(tb, "router-telemetry-http.jsonl")))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		if line := bytes.TrimSpace(sc.Bytes()); len(line) > 0 {
			lines = append(lines, bytes.Clone(line))
		}
	}
	if err := sc.Err(); err != nil {
		tb.Fatalf("scan fixture: %v", err)
	}
	return lines
}

// mustParse parses raw and fails the test on a FieldError.
func mustParse(tb testing.TB, p *reading.Parser, raw string) reading.Reading {
	tb.Helper()
	r, ferr := p.Parse([]byte(raw))
	if ferr != nil {
		tb.Fatalf("Parse(%s): %v", raw, ferr)
	}
	return r
}

// i64 returns a pointer to n.
func i64(n int64) *int64 { return &n }

// f64 returns a pointer to f.
func f64(f float64) *float64 { return &f }
