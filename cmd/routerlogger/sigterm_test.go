package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/routerlogger/routerlogger/ingest/tokens"
	"github.com/routerlogger/routerlogger/internal/db"
	"github.com/routerlogger/routerlogger/internal/pgtest"
)

// buildBinary builds routerlogger into a temporary folder.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "routerlogger")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

var listening = regexp.MustCompile(`msg="http server listening" addr=(\S+)`)

// TestServe_SIGTERM runs the real binary, posts from several clients, sends
// SIGTERM mid-load and checks the process exits 0 and every reading it
// acknowledged is stored.
func TestServe_SIGTERM(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	bin := buildBinary(t)

	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dsn, "ROUTERLOGGER_HTTP_ADDR=127.0.0.1:0",
		"ROUTERLOGGER_TIMESCALE=off")
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()

	addr := make(chan string, 1)
	var logs bytes.Buffer
	var logMu sync.Mutex
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logMu.Lock()
			logs.WriteString(sc.Text() + "\n")
			logMu.Unlock()
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
	}()
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case <-time.After(30 * time.Second):
		t.Fatal("server did not start")
	}

	pool, err := db.Open(context.Background(), dsn, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	tok, err := tokens.NewStore(pool, nil, 0).CreateFleet(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}

	// Four clients post readings until the server stops answering.
	var acked sync.Map
	var wg sync.WaitGroup
	for c := 0; c < 4; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				at := time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second)
				body := fmt.Sprintf(`{"device_id":"TERM-%d","timestamp":%q,"uptime":%d,`+
					`"counters":{"total_tx_bytes":%d}}`, c, at.Format(time.RFC3339), i, i)
				req, _ := http.NewRequest("POST", base+"/api/v1/telemetry", bytes.NewBufferString(body))
				req.Header.Set("Authorization", "Bearer "+tok)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					return
				}
				resp.Body.Close()
				if resp.StatusCode == 202 {
					acked.Store(fmt.Sprintf("TERM-%d/%d", c, i), true)
				}
			}
		}()
	}
	time.Sleep(500 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	wg.Wait()
	if err != nil {
		logMu.Lock()
		defer logMu.Unlock()
		t.Fatalf("serve exited with %v after SIGTERM\n%s", err, logs.String())
	}

	n := 0
	acked.Range(func(_, _ any) bool { n++; return true })
	var stored int
	if err := pool.QueryRow(context.Background(), "SELECT count(*) FROM samples").Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if n == 0 || stored < n {
		t.Fatalf("%d readings acknowledged, %d stored", n, stored)
	}
	t.Logf("%d readings acknowledged before SIGTERM, %d stored; exit 0", n, stored)
}
