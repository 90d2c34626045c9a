package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/routerlogger/routerlogger/internal/db"
	"github.com/routerlogger/routerlogger/internal/pgtest"
	"github.com/routerlogger/routerlogger/sync/rms/rmstest"
)

// rmsEnv is the environment of `sync rms` against fake.
func rmsEnv(dsn string, fake *rmstest.Fake) map[string]string {
	return map[string]string{
		"DATABASE_URL":               dsn,
		"ROUTERLOGGER_RMS_URL":       fake.URL,
		"ROUTERLOGGER_RMS_TOKEN":     rmstest.Token,
		"ROUTERLOGGER_RMS_PAGE_SIZE": "2",
	}
}

func runSyncRMS(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(t.Context(), append([]string{"sync", "rms"}, args...),
		func(k string) string { return env[k] }, &out, &errOut)
	return exitCode(err, &errOut), out.String(), errOut.String()
}

func TestSyncRMS_Once(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	fake := rmstest.New(t)
	env := rmsEnv(dsn, fake)

	code, out, errOut := runSyncRMS(t, env, "--once")
	if code != 0 || !strings.Contains(out, "rms: ok") || !strings.Contains(out, "fetched 3, changed 3") {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	t.Logf("%s(%d requests: %v)", out, fake.Requests(), fake.Counts())

	// A bad token fails the run, exit 1, naming the code.
	env["ROUTERLOGGER_RMS_TOKEN"] = "FAKE-WRONG"
	code, out, errOut = runSyncRMS(t, env, "--once")
	if code != 1 || !strings.Contains(out, "rms: failed") || !strings.Contains(errOut+out, "UNAUTHORIZED") {
		t.Errorf("bad token: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}

	// No token: refused with the variable named.
	delete(env, "ROUTERLOGGER_RMS_TOKEN")
	code, _, errOut = runSyncRMS(t, env, "--once")
	if code == 0 || !strings.Contains(errOut, "ROUTERLOGGER_RMS_TOKEN") {
		t.Errorf("no token: exit %d, stderr %s", code, errOut)
	}
}

// TestSyncRMS_Killed kills `sync rms --once` while it waits for page two,
// then runs it again: the lock frees itself within its lease, the second
// run resumes from page two and completes, and the killed run is marked
// failed "interrupted".
func TestSyncRMS_Killed(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	fake := rmstest.New(t)
	bin := buildBinary(t)

	var hang atomic.Bool
	hang.Store(true)
	reached := make(chan struct{}, 1)
	fake.SetHook(func(_ http.ResponseWriter, r *http.Request, key string, _ int) bool {
		if key != "devices offset=2" || !hang.Load() {
			return false
		}
		reached <- struct{}{}
		<-r.Context().Done() // until the client is gone
		return true
	})
	var env []string
	for k, v := range rmsEnv(dsn, fake) {
		env = append(env, k+"="+v)
	}

	first := exec.Command(bin, "sync", "rms", "--once", "--sync-lock-lease", "2s")
	first.Env = append(os.Environ(), env...)
	var firstOut bytes.Buffer
	first.Stdout, first.Stderr = &firstOut, &firstOut
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = first.Process.Kill() })
	select {
	case <-reached:
	case <-time.After(60 * time.Second):
		t.Fatalf("the first run never asked for page two:\n%s", firstOut.String())
	}
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	killed := time.Now()
	hang.Store(false)

	second := exec.Command(bin, "sync", "rms", "--once", "--sync-lock-lease", "2s",
		"--sync-lock-wait", "20s")
	second.Env = append(os.Environ(), env...)
	out, err := second.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "rms: ok") {
		t.Fatalf("second run: %v\n%s", err, out)
	}
	t.Logf("second run done %s after the kill; requests %v", time.Since(killed).Round(time.Millisecond),
		fake.Counts())

	pool, err := db.Open(context.Background(), dsn, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	rows, err := pool.Query(context.Background(), `SELECT status, coalesce(error, ''),
		coalesce(resumed_from, ''), fetched FROM sync_run_log WHERE job = 'rms' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	type runRow struct {
		status, err, resumed string
		fetched              int
	}
	var runs []runRow
	for rows.Next() {
		var r runRow
		if err := rows.Scan(&r.status, &r.err, &r.resumed, &r.fetched); err != nil {
			t.Fatal(err)
		}
		runs = append(runs, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 || runs[0].status != "failed" || !strings.HasPrefix(runs[0].err, "interrupted") ||
		runs[1].status != "ok" || runs[1].resumed != "2" || runs[1].fetched != 1 {
		t.Fatalf("runs %+v; want the killed one failed (interrupted), the second ok resumed from 2", runs)
	}
	if n := fake.Count("devices offset=0"); n != 1 {
		t.Errorf("page one asked for %d times, want once (the second run resumed)", n)
	}
	if n := countRows(pool, `SELECT count(*) FROM routers WHERE rms_id IS NOT NULL`); n != 3 {
		t.Errorf("%d routers with an RMS id, want 3", n)
	}
}
