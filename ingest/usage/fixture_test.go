package usage_test

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/routerlogger/routerlogger/ingest/usage"
)

var fixtures = filepath.Join("..", "..", "..", "shared", "fixtures")

type fixtureLine struct {
	DeviceID  string    `json:"device_id"`
	Timestamp time.Time `json:"timestamp"`
	Uptime    *int64    `json:"uptime"`
	Counters  struct {
		Tx *int64 `json:"total_tx_bytes"`
		Rx *int64 `json:"total_rx_bytes"`
	} `json:"counters"`
}

type expected struct {
	Routers map[string]struct {
		Tx       int64    `json:"tx_bytes_used"`
		Rx       int64    `json:"rx_bytes_used"`
		Reboots  []string `json:"reboots_detected_at"`
		Glitches []string `json:"zero_counter_samples_ignored"`
		Gaps     []struct {
			FirstAfter string `json:"first_after"`
		} `json:"gaps_over_10_min"`
	} `json:"routers"`
}

// loadFixtureDay reads the fixture day per router in time order. The
// fixture's fields are all well-formed, so plain JSON decoding suffices
// here; the tolerant parser is tested in package reading.
func loadFixtureDay(t *testing.T) map[string][]usage.Reading {
	t.Helper()
	f, err := os.Open(filepath.Join(fixtures, "router-telemetry-http.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	byRouter := map[string][]usage.Reading{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l fixtureLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatal(err)
		}
		r := usage.Reading{Time: l.Timestamp.UTC(), Uptime: l.Uptime, Tx: l.Counters.Tx, Rx: l.Counters.Rx}
		byRouter[l.DeviceID] = append(byRouter[l.DeviceID], r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for _, rs := range byRouter {
		slices.SortFunc(rs, func(a, b usage.Reading) int { return a.Time.Compare(b.Time) })
	}
	return byRouter
}

func TestReplay_FixtureDay(t *testing.T) {
	var want expected
	raw, err := os.ReadFile(filepath.Join(fixtures, "router-telemetry-expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}

	for serial, rs := range loadFixtureDay(t) {
		t.Run(serial, func(t *testing.T) {
			w := want.Routers[serial]
			res, _, _ := usage.Replay(usage.State{}, rs, usage.Options{})
			if got := usage.Total(res, usage.Tx); got != w.Tx {
				t.Errorf("tx used %d, want %d", got, w.Tx)
			}
			if got := usage.Total(res, usage.Rx); got != w.Rx {
				t.Errorf("rx used %d, want %d", got, w.Rx)
			}

			var reboots, glitches, gaps []string
			for i, r := range res {
				at := rs[i].Time.Format(time.RFC3339)
				if r.Flags&usage.FlagReboot != 0 {
					reboots = append(reboots, at)
				}
				if r.Flags&(usage.FlagTxGlitch|usage.FlagRxGlitch) != 0 {
					glitches = append(glitches, at)
				}
				if r.Flags&usage.FlagGap != 0 {
					gaps = append(gaps, at)
				}
			}
			var wantGaps []string
			for _, g := range w.Gaps {
				wantGaps = append(wantGaps, g.FirstAfter)
			}
			if !slices.Equal(reboots, w.Reboots) {
				t.Errorf("reboots %v, want %v", reboots, w.Reboots)
			}
			if !slices.Equal(glitches, w.Glitches) {
				t.Errorf("glitches %v, want %v", glitches, w.Glitches)
			}
			if !slices.Equal(gaps, wantGaps) {
				t.Errorf("gaps %v, want %v", gaps, wantGaps)
			}
		})
	}
}

// FuzzApply builds a monotonic counter series from the fuzz input, injects
// glitches (a reading that reports 0 while uptime rises) and checks that
// the usage equals the true growth and no delta is negative.
func FuzzApply(f *testing.F) {
	f.Add([]byte{10, 20, 0, 30, 255, 1}, uint8(2))
	f.Add([]byte{1, 1, 1, 1}, uint8(0))
	f.Fuzz(func(t *testing.T, steps []byte, glitchEvery uint8) {
		var rs []usage.Reading
		counter := int64(1 << 40)
		start := counter
		for i, s := range steps {
			counter += int64(s) * 1000
			v := counter
			if glitchEvery > 1 && i%int(glitchEvery) == 1 && i < len(steps)-1 {
				v = 0
			}
			rs = append(rs, rd(i, int64(100+60*i), p(v), nil))
		}
		res, _, outside := usage.Replay(usage.State{}, rs, usage.Options{})
		if len(outside) != 0 {
			t.Fatalf("revision outside the series: %v", outside)
		}
		for i, r := range res {
			if r.TxDelta != nil && *r.TxDelta < 0 {
				t.Fatalf("reading %d: negative delta %d", i, *r.TxDelta)
			}
		}
		if len(rs) == 0 {
			return
		}
		want := counter - start - int64(steps[0])*1000
		if got := usage.Total(res, usage.Tx); got != want {
			t.Fatalf("usage %d, want %d", got, want)
		}
	})
}
