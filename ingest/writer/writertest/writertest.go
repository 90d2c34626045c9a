// Package writertest starts writers for tests of the packages that feed
// the writer, and writes telemetry through them as the HTTP intake does.
package writertest

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/routerlogger/routerlogger/ingest/reading"
	"github.com/routerlogger/routerlogger/ingest/writer"
)

// Start starts a writer on pool and closes it when the test ends.
func Start(tb testing.TB, pool *pgxpool.Pool, cfg writer.Config) *writer.Writer {
	tb.Helper()
	w := writer.New(pool, cfg)
	if err := w.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = w.Close(context.Background()) })
	return w
}

// Parse parses telemetry lines, such as testkit.TelemetryLines, as the
// HTTP intake does when it receives them at now. A line that does not
// parse fails the test.
func Parse(tb testing.TB, now time.Time, lines ...[]byte) []reading.Reading {
	tb.Helper()
	p := reading.Parser{Now: func() time.Time { return now }}
	out := make([]reading.Reading, 0, len(lines))
	for _, l := range lines {
		r, ferr := p.Parse(l)
		if ferr != nil {
			tb.Fatalf("parse %s: %v", l, ferr)
		}
		out = append(out, r)
	}
	return out
}

// Write writes readings through w as one HTTP batch that registers new
// routers. An error or a rejected reading fails the test.
func Write(tb testing.TB, w *writer.Writer, rs ...reading.Reading) writer.Result {
	tb.Helper()
	res, err := w.Write(context.Background(), writer.Batch{Source: reading.SourceHTTP,
		Readings: rs, Register: true})
	if err != nil {
		tb.Fatal(err)
	}
	if len(res.Rejected) > 0 {
		tb.Fatalf("rejected: %+v", res.Rejected[0])
	}
	return res
}
