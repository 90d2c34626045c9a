package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/routerlogger/routerlogger/ingest/writer"
	"github.com/routerlogger/routerlogger/ingest/writer/writertest"
	"github.com/routerlogger/routerlogger/internal/pgtest"
	"github.com/routerlogger/routerlogger/internal/testkit"
	"github.com/routerlogger/routerlogger/sync/syncrun"
)

// fixtureFleet returns the DSN of a migrated database holding the
// telemetry fixture, written by the real writer as received the day
// after the fixture day.
func fixtureFleet(t *testing.T) string {
	t.Helper()
	dsn, pool := testkit.MigratedDSN(t)
	w := writertest.Start(t, pool, writer.Config{})
	received := time.Date(2025, 3, 16, 0, 0, 0, 0, time.UTC)
	writertest.Write(t, w, writertest.Parse(t, received, testkit.TelemetryLines(t)...)...)
	return dsn
}

// fakeSettings is a sync service whose pass is a func, for the command's
// own tests.
type fakeSettings struct {
	key  *string
	pass func(ctx context.Context, r *syncrun.Run) error
}

func (s *fakeSettings) configured() error {
	if *s.key == "" {
		return errors.New("ROUTERLOGGER_FAKE_KEY is not set")
	}
	return nil
}

func (s *fakeSettings) interval() time.Duration { return time.Hour }

func (s *fakeSettings) job(syncDeps) (syncrun.Job, error) { return fakeSyncJob{s.pass}, nil }

type fakeSyncJob struct {
	pass func(ctx context.Context, r *syncrun.Run) error
}

func (fakeSyncJob) Name() string { return "fake" }

func (j fakeSyncJob) Run(ctx context.Context, r *syncrun.Run) error { return j.pass(ctx, r) }

// withFakeService registers the service "fake" for one test.
func withFakeService(t *testing.T, pass func(ctx context.Context, r *syncrun.Run) error) {
	t.Helper()
	syncServices["fake"] = syncService{summary: "a test service", register: func(f *flags) syncSettings {
		return &fakeSettings{key: f.cfg.Secret("fake-key", envs("FAKE_KEY"), "key"), pass: pass}
	}}
	t.Cleanup(func() { delete(syncServices, "fake") })
}

func runSyncCmd(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(t.Context(), append([]string{"sync"}, args...), func(k string) string { return env[k] },
		&out, &errOut)
	return exitCode(err, &errOut), out.String(), errOut.String()
}

func TestSync_Command(t *testing.T) {
	outcome := "ok"
	withFakeService(t, func(_ context.Context, r *syncrun.Run) error {
		r.AddFetched(4)
		switch outcome {
		case "partial":
			r.Partial(errors.New("429 too many requests"), time.Minute)
		case "failed":
			return errors.New("401 unauthorized: token revoked")
		case "item":
			r.Fail("device 7", errors.New("403: the token lacks a scope"))
		}
		r.AddChanged(1)
		return nil
	})
	env := map[string]string{"DATABASE_URL": pgtest.NewDatabase(t), "ROUTERLOGGER_FAKE_KEY": "k"}

	tests := []struct {
		outcome string
		code    int
		want    []string
	}{
		{"ok", 0, []string{"fake: ok (run 1): fetched 4, changed 1"}},
		{"partial", 0, []string{"fake: partial (run 2)", "429 too many requests", "next attempt after"}},
		{"failed", 1, []string{"fake: failed (run 3)", "401 unauthorized: token revoked"}},
		{"item", 0, []string{"fake: partial (run 4)", "1 items failed", "device 7: 403: the token lacks a scope"}},
	}
	for _, tt := range tests {
		outcome = tt.outcome
		code, out, errOut := runSyncCmd(t, env, "fake", "--once")
		if code != tt.code {
			t.Fatalf("%s: exit %d, want %d\nstdout: %s\nstderr: %s", tt.outcome, code, tt.code, out, errOut)
		}
		for _, w := range tt.want {
			if !strings.Contains(out, w) {
				t.Fatalf("%s: stdout lacks %q:\n%s", tt.outcome, w, out)
			}
		}
	}

	t.Run("not configured", func(t *testing.T) {
		code, _, errOut := runSyncCmd(t, map[string]string{"DATABASE_URL": env["DATABASE_URL"]}, "fake", "--once")
		if code != 1 || !strings.Contains(errOut, "ROUTERLOGGER_FAKE_KEY is not set") {
			t.Fatalf("exit %d, stderr %q", code, errOut)
		}
	})
	t.Run("without --once", func(t *testing.T) {
		code, _, errOut := runSyncCmd(t, env, "fake")
		if code != 2 || !strings.Contains(errOut, "pass --once") {
			t.Fatalf("exit %d, stderr %q", code, errOut)
		}
	})
	t.Run("unknown job", func(t *testing.T) {
		code, _, errOut := runSyncCmd(t, env, "nope", "--once")
		if code != 2 || !strings.Contains(errOut, `unknown job "nope"`) {
			t.Fatalf("exit %d, stderr %q", code, errOut)
		}
	})
}

func TestWorker_Command(t *testing.T) {
	ran := make(chan struct{}, 1)
	withFakeService(t, func(_ context.Context, r *syncrun.Run) error {
		r.AddFetched(1)
		select {
		case ran <- struct{}{}:
		default:
		}
		return nil
	})
	dsn := pgtest.NewDatabase(t)
	env := map[string]string{"DATABASE_URL": dsn, "ROUTERLOGGER_FAKE_KEY": "k",
		"ROUTERLOGGER_METRICS_ADDR": "127.0.0.1:0"}

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	var out, errOut bytes.Buffer
	go func() {
		done <- run(ctx, []string{"worker"}, func(k string) string { return env[k] }, &out, &errOut)
	}()

	// The periodic job runs once when the worker starts.
	select {
	case <-ran:
	case err := <-done:
		t.Fatalf("worker ended early: %v\n%s", err, errOut.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("the fake job never ran\n%s", errOut.String())
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("worker stop: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("worker did not stop")
	}
	if !strings.Contains(errOut.String(), "worker started") || !strings.Contains(errOut.String(), "worker stopped") {
		t.Fatalf("lifecycle logs missing:\n%s", errOut.String())
	}
}
