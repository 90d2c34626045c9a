package jobs

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

func TestQuieter(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(quieter{slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})})

	log.Info("producer: job counts")
	log.Warn("jobs: something degraded")
	if strings.Contains(buf.String(), "job counts") || !strings.Contains(buf.String(), "degraded") {
		t.Fatalf("at info level: %q, want River's info dropped and its warning kept", buf.String())
	}

	buf.Reset()
	debug := slog.New(quieter{slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})})
	debug.With("component", "river").Info("producer: job counts")
	if !strings.Contains(buf.String(), "level=DEBUG") || !strings.Contains(buf.String(), "component=river") {
		t.Fatalf("at debug level: %q, want it as debug", buf.String())
	}
	if !debug.Handler().Enabled(context.Background(), slog.LevelInfo) {
		t.Fatal("a debug logger must take River's info records")
	}
}
