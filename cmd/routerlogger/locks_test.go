package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/routerlogger/routerlogger/internal/locks"
	"github.com/routerlogger/routerlogger/internal/testkit"
)

// runLocksCmd runs `routerlogger locks ARGS` against dsn and returns the
// exit code and both outputs.
func runLocksCmd(t *testing.T, dsn string, args ...string) (code int, stdout, stderr string) {
	t.Helper()

	var out, errOut bytes.Buffer
	getenv := func(k string) string {
		if k == "DATABASE_URL" {
			return dsn
		}
		return ""
	}
	err := run(t.Context(), append([]string{"locks"}, args...), getenv, &out, &errOut)
	code = exitCode(err, &errOut)
	return code, out.String(), errOut.String()
}

func TestLocks_Command(t *testing.T) {
	dsn, pool := testkit.MigratedDSN(t)
	quiet := slog.New(slog.DiscardHandler)
	opts := locks.Options{Lease: 600 * time.Millisecond, Holder: "job-host:42", Logger: quiet}
	svc, err := locks.New(pool, opts)
	if err != nil {
		t.Fatal(err)
	}
	held, err := svc.Acquire(context.Background(), "fleet-sync")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("list", func(t *testing.T) {
		code, out, errOut := runLocksCmd(t, dsn)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		header := strings.Join(strings.Fields(lines[0]), " ")
		if code != 0 || len(lines) != 2 || header != "NAME HOLDER ACQUIRED RENEWED" {
			t.Fatalf("exit %d, stdout %q, stderr %q; want a header and one lock", code, out, errOut)
		}
		f := strings.Fields(lines[1])
		if len(f) != 6 || f[0] != "fleet-sync" || f[1] != "job-host:42" {
			t.Fatalf("row %q, want fleet-sync held by job-host:42 with two times", lines[1])
		}
	})

	t.Run("release", func(t *testing.T) {
		code, out, errOut := runLocksCmd(t, dsn, "release", "fleet-sync")
		warned := strings.Contains(errOut, "warning") && strings.Contains(errOut, "job-host:42")
		if code != 0 || !warned || !strings.Contains(out, "lock fleet-sync released") {
			t.Fatalf("exit %d, stdout %q, stderr %q; want exit 0 and a warning naming the holder",
				code, out, errOut)
		}
		if _, out, _ := runLocksCmd(t, dsn, "list"); strings.Contains(out, "fleet-sync") {
			t.Fatalf("released lock still listed:\n%s", out)
		}
		<-held.Context().Done()
		if err := held.Release(t.Context()); !errors.Is(err, locks.ErrLost) {
			t.Fatalf("holder's release: %v, want ErrLost", err)
		}
	})

	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown lock", []string{"release", "nope"}, 1, `release lock "nope": lock is not held`},
		{"no name", []string{"release"}, 2, "Usage: routerlogger locks release NAME"},
		{"unknown subcommand", []string{"grab"}, 2, `unknown subcommand "grab"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runLocksCmd(t, dsn, tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d and %q", code, errOut, tt.code, tt.want)
			}
		})
	}
}
