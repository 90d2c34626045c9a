// Package writertest starts writers for tests of the packages that feed
// the writer.
package writertest

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

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
