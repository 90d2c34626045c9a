package merge_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/routerlogger/routerlogger/ingest/merge"
	"github.com/routerlogger/routerlogger/ingest/reading"
	"github.com/routerlogger/routerlogger/ingest/writer"
	"github.com/routerlogger/routerlogger/ingest/writer/writertest"
	"github.com/routerlogger/routerlogger/internal/testkit"
)

// TestMerger_ConcurrentWriter merges while a writer keeps writing for both
// serials. Both lock router_status rows in id order, so neither may
// deadlock; the test is bounded by a deadline. Readings sent under the
// duplicate's serial after the merge land on the keeper.
func TestMerger_ConcurrentWriter(t *testing.T) {
	pool := testkit.MigratedDB(t)
	w := writertest.Start(t, pool, writer.Config{Workers: 2, Timeout: 20 * time.Second})
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()

	start := []reading.Reading{
		{DeviceID: keepSerial, Time: t0, IMEI: imei, TxBytes: ptr(0), RxBytes: ptr(0), Uptime: ptr(100)},
		{DeviceID: dupSerial, Time: t0.Add(time.Second), IMEI: imei, TxBytes: ptr(0), RxBytes: ptr(0),
			Uptime: ptr(101)},
	}
	write(t, w, start)
	keep, dup := routerID(t, pool, keepSerial), routerID(t, pool, dupSerial)

	const n = 150
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for g, serial := range []string{keepSerial, dupSerial} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 1; i <= n; i++ {
				at := t0.Add(time.Duration(i)*time.Minute + time.Duration(g)*time.Second)
				v := int64(i) * 1000
				r := reading.Reading{DeviceID: serial, Time: at, TxBytes: ptr(v), RxBytes: ptr(2 * v),
					Uptime: ptr(100 + int64(i)*60 + int64(g))}
				b := writer.Batch{Source: reading.SourceMQTT, Readings: []reading.Reading{r}, Register: true}
				if _, err := w.Write(ctx, b); err != nil {
					errs <- err
				}
			}
		}()
	}

	time.Sleep(50 * time.Millisecond)
	rep, err := merge.New(pool, merge.Config{}).Merge(ctx, keep, dup)
	if err != nil {
		t.Fatalf("merge during writes: %v", err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("write during merge: %v", err)
	}
	if ctx.Err() != nil {
		t.Fatal("merge and writer did not finish within the deadline")
	}

	var samples, routers int
	q := "SELECT (SELECT count(*) FROM samples WHERE router_id = $1), (SELECT count(*) FROM routers)"
	if err := pool.QueryRow(t.Context(), q, keep).Scan(&samples, &routers); err != nil {
		t.Fatal(err)
	}
	t.Logf("merge moved %d, dropped %d while writing; keeper has %d samples, %d router rows",
		rep.SamplesMoved, rep.SamplesDropped, samples, routers)
	if samples != 2*n+2 || routers != 1 {
		t.Errorf("keeper has %d samples and there are %d routers; want %d and 1", samples, routers, 2*n+2)
	}
	checkRollups(t, pool)
}

// TestMerger_WriterFollowsMerge checks what a router that keeps sending
// the merged serial gets: with a fleet token its readings go to the
// keeper and the serial is not registered again; with the router token
// the merge moved to the keeper they are accepted too.
func TestMerger_WriterFollowsMerge(t *testing.T) {
	pool := testkit.MigratedDB(t)
	w := writertest.Start(t, pool, writer.Config{})
	ctx := t.Context()
	write(t, w, []reading.Reading{
		{DeviceID: keepSerial, Time: t0, IMEI: imei, TxBytes: ptr(0), RxBytes: ptr(0)},
		{DeviceID: dupSerial, Time: t0.Add(time.Minute), IMEI: imei, TxBytes: ptr(0), RxBytes: ptr(0)},
	})
	keep, dup := routerID(t, pool, keepSerial), routerID(t, pool, dupSerial)
	if _, err := merge.New(pool, merge.Config{}).Merge(ctx, keep, dup); err != nil {
		t.Fatal(err)
	}

	at := t0.Add(time.Hour)
	r := func(serial string) reading.Reading {
		at = at.Add(time.Minute)
		return reading.Reading{DeviceID: serial, Time: at, TxBytes: ptr(100), RxBytes: ptr(100)}
	}
	fleetRes, err := w.Write(ctx, writer.Batch{Source: reading.SourceHTTP, Register: true,
		Readings: []reading.Reading{r(dupSerial)}})
	if err != nil || fleetRes.Accepted != 1 {
		t.Fatalf("fleet token, merged serial: %+v, %v; want accepted", fleetRes, err)
	}
	routerRes, err := w.Write(ctx, writer.Batch{Source: reading.SourceHTTP, AllowRouter: keepSerial,
		Readings: []reading.Reading{r(dupSerial), r("SOMEONE-ELSE")}})
	if err != nil || routerRes.Accepted != 1 || len(routerRes.Rejected) != 1 {
		t.Fatalf("router token: %+v, %v; want the merged serial accepted, another rejected", routerRes, err)
	}

	var samples, routers int
	q := "SELECT (SELECT count(*) FROM samples WHERE router_id = $1), (SELECT count(*) FROM routers)"
	if err := pool.QueryRow(ctx, q, keep).Scan(&samples, &routers); err != nil {
		t.Fatal(err)
	}
	if samples != 4 || routers != 1 {
		t.Errorf("keeper has %d samples, %d routers exist; want 4 and 1", samples, routers)
	}
}

// TestMerger_RegisterDuringMerge posts the duplicate's serial, with a
// fleet token and an empty id cache, while a merge that deletes it is
// open: the writer's registration waits for the merge and must then not
// create the serial again.
func TestMerger_RegisterDuringMerge(t *testing.T) {
	pool := testkit.MigratedDB(t)
	ctx := t.Context()
	exec(t, pool, "INSERT INTO routers (serial) VALUES ($1), ($2)", keepSerial, dupSerial)
	keep, dup := routerID(t, pool, keepSerial), routerID(t, pool, dupSerial)

	// What a merge does last, left open.
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	for _, q := range []string{
		"DELETE FROM router_status WHERE router_id = $2 AND $1::bigint > 0",
		`INSERT INTO router_merges (keep_router_id, keep_serial, dup_router_id, dup_serial, matched_by,
			matched_value, samples_moved, samples_dropped)
		SELECT $1, k.serial, $2, d.serial, 'imei', 'x', 0, 0 FROM routers k, routers d
		WHERE k.id = $1 AND d.id = $2`,
		"DELETE FROM routers WHERE id = $2 AND $1::bigint > 0",
	} {
		if _, err := tx.Exec(ctx, q, keep, dup); err != nil {
			t.Fatal(err)
		}
	}

	w := writertest.Start(t, pool, writer.Config{})
	done := make(chan error, 1)
	go func() {
		b := writer.Batch{Source: reading.SourceHTTP, Register: true, Readings: []reading.Reading{
			{DeviceID: dupSerial, Time: t0, TxBytes: ptr(1), RxBytes: ptr(1)}}}
		_, err := w.Write(ctx, b)
		done <- err
	}()
	time.Sleep(300 * time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("the write did not wait for the open merge: %v", err)
	default:
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}

	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the write did not finish after the merge committed")
	}
	var routers, samples int
	q := "SELECT (SELECT count(*) FROM routers), (SELECT count(*) FROM samples WHERE router_id = $1)"
	if err := pool.QueryRow(ctx, q, keep).Scan(&routers, &samples); err != nil {
		t.Fatal(err)
	}
	if routers != 1 || samples != 1 {
		t.Errorf("%d routers, keeper has %d samples; want 1 and 1 (the serial registered again?)", routers, samples)
	}
}
