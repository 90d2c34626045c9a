package writer_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/routerlogger/routerlogger/ingest/reading"
	"github.com/routerlogger/routerlogger/ingest/writer"
	"github.com/routerlogger/routerlogger/internal/db"
	"github.com/routerlogger/routerlogger/internal/pgtest"
)

func countSamples(t *testing.T, pool *pgxpool.Pool) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), "SELECT count(*) FROM samples").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestWriter_DatabaseOutage stops the server and terminates connections
// while readings flow: every acknowledged reading is stored, none twice,
// and writes succeed again once the database is back.
func TestWriter_DatabaseOutage(t *testing.T) {
	cluster := pgtest.StartCluster(t, pgtest.ClusterOptions{})
	ctx := context.Background()
	pool, err := db.Open(ctx, cluster.DSN, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := db.Migrate(ctx, pool, slog.Default(), db.TimescaleOff); err != nil {
		t.Fatal(err)
	}
	w := startWriter(t, pool, writer.Config{Timeout: 5 * time.Second})
	rs := fixtureReadings(t)

	acked := 0
	send := func(r reading.Reading) error {
		res, err := w.Write(ctx, writer.Batch{Source: reading.SourceHTTP, Readings: []reading.Reading{r}, Register: true})
		if err == nil {
			acked += res.Accepted
		}
		return err
	}

	for _, r := range rs[:100] {
		if err := send(r); err != nil {
			t.Fatal(err)
		}
	}

	cluster.Stop(t)
	err = send(rs[100])
	if !errors.Is(err, writer.ErrUnavailable) {
		t.Fatalf("write with the database stopped: %v, want ErrUnavailable", err)
	}
	cluster.Start(t)

	// Terminate every writer connection now and then while sending.
	for i, r := range rs[100:400] {
		if i%25 == 0 {
			_, _ = pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
				WHERE application_name = 'routerlogger' AND pid <> pg_backend_pid()`)
		}
		for attempt := 0; ; attempt++ {
			err := send(r)
			if err == nil {
				break
			}
			if !errors.Is(err, writer.ErrUnavailable) || attempt > 3 {
				t.Fatalf("reading %d: %v", i, err)
			}
		}
	}

	if got := countSamples(t, pool); got != acked || acked != 400 {
		t.Fatalf("%d samples stored, %d acknowledged, want 400 of each", got, acked)
	}
	t.Logf("acknowledged %d, stored %d", acked, countSamples(t, pool))
}

// TestWriter_QueueFull fills the queue of a writer with no workers.
func TestWriter_QueueFull(t *testing.T) {
	pool := openDB(t)
	w := writer.New(pool, writer.Config{QueueSize: 1, Mode: db.ModePlain})
	rs := fixtureReadings(t)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := w.Write(ctx, writer.Batch{Source: reading.SourceHTTP, Readings: rs[:1], Register: true})
		done <- err
	}()
	deadline := time.Now().Add(5 * time.Second)
	for w.QueueLen() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}

	_, err := w.Write(context.Background(), writer.Batch{Source: reading.SourceHTTP, Readings: rs[1:2]})
	if !errors.Is(err, writer.ErrQueueFull) {
		t.Fatalf("second write: %v, want ErrQueueFull", err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("first write: %v, want context.Canceled", err)
	}
}

// TestWriter_Rejects covers the rejects the writer itself makes and the
// ones a front door hands it: all stored, good readings committed.
func TestWriter_Rejects(t *testing.T) {
	pool := openDB(t)
	w := startWriter(t, pool, writer.Config{})
	rs := fixtureReadings(t)

	res, err := w.Write(context.Background(), writer.Batch{
		Source:   reading.SourceHTTP,
		Readings: []reading.Reading{rs[0], rs[1]},
		Rejects:  []writer.Reject{{Index: 7, Field: "timestamp", Reason: "bad time", Payload: []byte("{\x00}")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 0 || len(res.Rejected) != 3 {
		t.Fatalf("unregistered routers: %+v", res)
	}

	res, err = w.Write(context.Background(), writer.Batch{Source: reading.SourceHTTP,
		Readings: []reading.Reading{rs[0], rs[1]}, Register: true, AllowRouter: rs[1].DeviceID})
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 1 || len(res.Rejected) != 1 || res.Rejected[0].Index != 0 {
		t.Fatalf("router-bound batch: %+v", res)
	}

	var n int
	var reasons []string
	rows, _ := pool.Query(context.Background(), "SELECT reason FROM rejects ORDER BY id")
	for rows.Next() {
		var r string
		_ = rows.Scan(&r)
		reasons = append(reasons, r)
		n++
	}
	if n != 4 {
		t.Fatalf("%d rejects stored, want 4: %q", n, reasons)
	}
	var accepted, rejected int
	const q = "SELECT sum(accepted), sum(rejected) FROM ingest_health"
	if err := pool.QueryRow(context.Background(), q).Scan(&accepted, &rejected); err != nil {
		t.Fatal(err)
	}
	if accepted != 1 || rejected != 4 {
		t.Errorf("ingest_health accepted %d rejected %d, want 1 and 4", accepted, rejected)
	}
}
