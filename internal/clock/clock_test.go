package clock_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/routerlogger/routerlogger/internal/clock"
)

func TestSleep(t *testing.T) {
	if err := clock.Sleep(t.Context(), time.Millisecond); err != nil {
		t.Fatalf("sleep: %v", err)
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	start := time.Now()
	if err := clock.Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("sleep on a cancelled context: %v", err)
	}
	if time.Since(start) > time.Second {
		t.Fatal("sleep did not return when its context ended")
	}
}
