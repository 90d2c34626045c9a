package writer_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/routerlogger/routerlogger/ingest/reading"
	"github.com/routerlogger/routerlogger/ingest/usage"
	"github.com/routerlogger/routerlogger/ingest/writer"
)

// series builds a router's readings in time order with reboots, glitches
// and resets without reboot, from a seeded random source.
func series(rng *rand.Rand, serial string, n int) []reading.Reading {
	t := time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC)
	tx, rx, up := int64(1<<33)+rng.Int64N(1<<20), int64(1<<34), int64(5000)
	var out []reading.Reading
	for i := 0; i < n; i++ {
		t = t.Add(time.Duration(200+rng.IntN(200)) * time.Second)
		up += 300
		tx += rng.Int64N(100_000)
		rx += rng.Int64N(1_000_000)
		r := reading.Reading{DeviceID: serial, Time: t}
		rtx, rrx, rup := tx, rx, up
		switch p := rng.IntN(20); {
		case p == 0: // reboot
			up, tx, rx = 30, rng.Int64N(5000), rng.Int64N(9000)
			rtx, rrx, rup = tx, rx, up
		case p == 1: // glitch to zero
			rtx, rrx = 0, 0
		case p == 2: // reset without reboot
			tx, rx = rng.Int64N(100), rng.Int64N(100)
			rtx, rrx = tx, rx
		case p == 3: // only tx
			rrx = -1
		}
		r.TxBytes, r.Uptime = &rtx, &rup
		if rrx >= 0 {
			r.RxBytes = &rrx
		}
		out = append(out, r)
	}
	return out
}

// TestWriter_AnyArrivalOrder delivers the same readings in shuffled order
// and in random batch sizes, with duplicates, and checks every stored delta
// and the rollups against one pass of the rules over the sorted series.
func TestWriter_AnyArrivalOrder(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			pool := openDB(t)
			w := startWriter(t, pool, writer.Config{})

			byRouter := map[string][]reading.Reading{}
			var all []reading.Reading
			for i := range 3 {
				serial := fmt.Sprintf("ORDER-%d", i)
				byRouter[serial] = series(rng, serial, 60)
				all = append(all, byRouter[serial]...)
			}
			rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
			all = append(all, all[:20]...) // duplicates

			for len(all) > 0 {
				n := min(len(all), 1+rng.IntN(12))
				write(t, w, slices.Clone(all[:n])...)
				all = all[n:]
			}

			checkFleetHourly(t, pool)
			for serial, rs := range byRouter {
				ur := make([]usage.Reading, len(rs))
				for i, r := range rs {
					ur[i] = usage.Reading{Time: r.Time, Uptime: r.Uptime, Tx: r.TxBytes, Rx: r.RxBytes}
				}
				want, _, _ := usage.Replay(usage.State{}, ur, usage.Options{})

				rows, err := pool.Query(context.Background(), `SELECT s.time, s.tx_delta, s.rx_delta, s.flags
					FROM samples s JOIN routers r ON r.id = s.router_id WHERE r.serial = $1 ORDER BY s.time`, serial)
				if err != nil {
					t.Fatal(err)
				}
				i := 0
				for rows.Next() {
					var at time.Time
					var tx, rx *int64
					var flags int32
					if err := rows.Scan(&at, &tx, &rx, &flags); err != nil {
						t.Fatal(err)
					}
					if !ptrEq(tx, want[i].TxDelta) || !ptrEq(rx, want[i].RxDelta) {
						t.Errorf("%s at %s: delta tx %v rx %v, want %v %v", serial, at.UTC().Format(time.TimeOnly),
							show(tx), show(rx), show(want[i].TxDelta), show(want[i].RxDelta))
					}
					if got := usage.Flags(flags) &^ usage.ArrivalFlags; got != want[i].Flags {
						t.Errorf("%s at %s: flags %b, want %b", serial, at.UTC().Format(time.TimeOnly), got, want[i].Flags)
					}
					i++
				}
				rows.Close()
				if i != len(rs) {
					t.Fatalf("%s: %d samples stored, want %d", serial, i, len(rs))
				}

				got := dailyTotals(t, pool, "router_usage_hourly")[serial]
				if wantTx, wantRx := usage.Total(want, usage.Tx), usage.Total(want, usage.Rx); got != [2]int64{wantTx, wantRx} {
					t.Errorf("%s: hourly totals %v, want [%d %d]", serial, got, wantTx, wantRx)
				}
			}
		})
	}
}

// TestWriter_TwoInstances feeds the fixture day through two writers (as two
// serve instances would be) at once, each taking every other reading, and
// gets the same usage as one writer.
func TestWriter_TwoInstances(t *testing.T) {
	pool := openDB(t)
	w1 := startWriter(t, pool, writer.Config{})
	w2 := startWriter(t, pool, writer.Config{})
	rs := fixtureReadings(t)

	var wg sync.WaitGroup
	for k, w := range []*writer.Writer{w1, w2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := k; i < len(rs); i += 2 {
				if _, err := w.Write(context.Background(), writer.Batch{Source: reading.SourceHTTP,
					Readings: []reading.Reading{rs[i]}, Register: true}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if got, want := dailyTotals(t, pool, "router_usage_daily"), expectedTotals(t); !equalTotals(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func ptrEq(a, b *int64) bool { return a == nil && b == nil || a != nil && b != nil && *a == *b }

func show(p *int64) any {
	if p == nil {
		return "null"
	}
	return *p
}
