package geo_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/routerlogger/routerlogger/sync/geo"
	"github.com/routerlogger/routerlogger/sync/geo/geotest"
	"github.com/routerlogger/routerlogger/sync/syncrun"
)

// TestJob_Fixture locates the fixture fleet: two known cells and the test
// PLMN, which the provider does not know.
func TestJob_Fixture(t *testing.T) {
	h := newHarness(t, harnessOpts{fixture: true})

	res := h.run(t)
	wantRun(t, res, syncrun.StatusOK, syncrun.Counts{Fetched: 3, Changed: 2, Skipped: 1})
	if h.fake.Calls() != 3 {
		t.Fatalf("%d provider calls, want 3", h.fake.Calls())
	}

	t.Run("LTE request", func(t *testing.T) {
		var got *geotest.Request
		for _, r := range h.fake.Requests() {
			if r.MNC == 30 {
				got = &r
			}
		}
		if got == nil || got.Token != geotest.Key || got.Radio != "lte" || got.MCC != 234 ||
			len(got.Cells) != 1 || got.Cells[0].LAC != 3211 || got.Cells[0].CID != 21283329 ||
			got.Address != 0 {
			t.Fatalf("request for RL-TEST-001: %+v; want radio lte, mcc 234, mnc 30, "+
				"cells [{lac: 3211 (the TAC), cid: 21283329}], address 0", got)
		}
	})

	t.Run("current view", func(t *testing.T) {
		var serial, name string
		var lat, lon float64
		var acc int
		var since time.Time
		err := h.pool.QueryRow(t.Context(), `
			SELECT serial, name, lat, lon, accuracy_m, since FROM router_location_current
			WHERE serial = '6000000001'`).Scan(&serial, &name, &lat, &lon, &acc, &since)
		if err != nil {
			t.Fatal(err)
		}
		last := time.Date(2025, 3, 14, 23, 55, 1, 0, time.UTC)
		if name != "RL-TEST-001" || lat != fixLondon.Lat || lon != fixLondon.Lon || acc != 1200 ||
			!since.Equal(last) {
			t.Fatalf("current location %s %s %g,%g ±%d since %s; want RL-TEST-001 %g,%g ±1200 since %s",
				serial, name, lat, lon, acc, since, fixLondon.Lat, fixLondon.Lon, last)
		}
		var n int
		if err := h.pool.QueryRow(t.Context(),
			"SELECT count(*) FROM router_location_current").Scan(&n); err != nil || n != 2 {
			t.Fatalf("%d routers located (%v), want 2: the test PLMN is unknown", n, err)
		}
	})

	t.Run("views for the reader only", func(t *testing.T) {
		conn, err := h.pool.Acquire(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Release()
		if _, err := conn.Exec(t.Context(), "SET ROLE routerlogger_reader"); err != nil {
			t.Fatal(err)
		}
		defer conn.Exec(context.Background(), "RESET ROLE")

		for _, v := range []string{"router_location_current", "router_location_history"} {
			var n int
			if err := conn.QueryRow(t.Context(), "SELECT count(*) FROM "+v).Scan(&n); err != nil || n != 2 {
				t.Errorf("reader: %s: %d rows, %v; want 2", v, n, err)
			}
		}
		for _, tbl := range []string{"router_locations", "geo_cells"} {
			var pgErr *pgconn.PgError
			if _, err := conn.Exec(t.Context(), "SELECT * FROM "+tbl); !errors.As(err, &pgErr) ||
				pgErr.Code != "42501" {
				t.Errorf("reader: %s: %v, want permission denied", tbl, err)
			}
		}
	})

	t.Run("not found is cached as unknown", func(t *testing.T) {
		var found bool
		var msg string
		err := h.pool.QueryRow(t.Context(), `
			SELECT found, message FROM geo_cells
			WHERE radio = 'lte' AND mcc = '001' AND mnc = '01' AND area = 1 AND cell_id = 257`).
			Scan(&found, &msg)
		if err != nil || found || msg != "No matches found" {
			t.Fatalf("cache of 001-01 1/257: found %v, message %q, %v; want not found", found, msg, err)
		}
	})

	t.Run("cached cells make no call", func(t *testing.T) {
		res := h.run(t)
		wantRun(t, res, syncrun.StatusOK, syncrun.Counts{Skipped: 3})
		if h.fake.Calls() != 3 {
			t.Fatalf("%d provider calls after a cached run, want still 3", h.fake.Calls())
		}
	})
}

// TestJob_CacheExpiry checks a cached answer is used until it expires (7
// days not found, 30 days found) and then asked again once.
func TestJob_CacheExpiry(t *testing.T) {
	h := newHarness(t, harnessOpts{fixture: true})
	h.run(t)
	calls := h.fake.Calls()

	h.clock.Advance(6 * 24 * time.Hour)
	wantRun(t, h.run(t), syncrun.StatusOK, syncrun.Counts{Skipped: 3})
	if got := h.fake.Calls() - calls; got != 0 {
		t.Fatalf("%d calls after 6 days, want 0", got)
	}

	h.clock.Advance(2 * 24 * time.Hour) // 8 days: the not-found answer expired
	wantRun(t, h.run(t), syncrun.StatusOK, syncrun.Counts{Fetched: 1, Skipped: 3})
	if got := h.fake.Calls() - calls; got != 1 {
		t.Fatalf("%d calls after 8 days, want 1 (the unknown cell)", got)
	}
	if r := h.fake.Requests()[calls]; r.MCC != 1 || r.Cells[0].CID != 257 {
		t.Fatalf("asked again for %+v, want the unknown cell 001-01 1/257", r)
	}

	h.clock.Advance(23 * 24 * time.Hour) // 31 days: the found ones too, and the unknown again
	wantRun(t, h.run(t), syncrun.StatusOK, syncrun.Counts{Fetched: 3, Skipped: 3})
	if got := h.fake.Calls() - calls; got != 4 {
		t.Fatalf("%d calls after 31 days, want 4", got)
	}
}

// TestJob_Placeholders checks that no placeholder cell reaches the
// provider, and that cell id 0 with a real TAC does, once.
func TestJob_Placeholders(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	const serial = "6000000009"
	at := dayEnd.Add(time.Hour)

	tests := []struct {
		name, networkType, mcc, mnc, cell string
	}{
		{"rms page 2: lac 65535, cid 0", "LTE", "001", "01", `{"lac":"65535","cid":"0"}`},
		{"TAC 0, cid 0", "LTE", "234", "30", `{"tac":0,"cid":0}`},
		{"TAC 65534, cid 65535", "LTE", "234", "30", `{"tac":65534,"cid":65535}`},
		{"TAC 65535, cid 65535", "LTE", "234", "30", `{"tac":"65535","cid":"65535"}`},
		{"LAC 0, cid 0 (GSM)", "GSM", "234", "30", `{"lac":0,"cid":0}`},
		{"cid INT32_MAX", "LTE", "234", "30", `{"tac":3211,"cid":2147483647}`},
		{"cid above the LTE range", "LTE", "234", "30", `{"tac":3211,"cid":268435456}`},
		{"cid above the NR range", "5G-SA", "234", "30", `{"tac":3211,"cid":68719476736}`},
		{"N/A cell id after a real one", "LTE", "234", "15", `{"lac":"N/A","tac":"1049","cid":"N/A"}`},
		{"N/A cell", "LTE", "234", "15", `"N/A"`},
		{"N/A network type", "N/A", "234", "15", `{"tac":"1048","cid":"35104011"}`},
		{"N/A mcc", "LTE", "N/A", "15", `{"tac":"1048","cid":"35104012"}`},
	}
	// A real cell first, so that "N/A" later leaves old values in
	// router_status that must not be mixed with the new reading's: each
	// N/A case's other values make a cell nobody cached.
	h.report(t, serial, at, "LTE", "234", "15", `{"tac":"1048","cid":"35104010"}`)
	wantRun(t, h.run(t), syncrun.StatusOK, syncrun.Counts{Fetched: 1, Changed: 1})

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at = at.Add(5 * time.Minute)
			before := h.fake.Calls()
			h.report(t, serial, at, tt.networkType, tt.mcc, tt.mnc, tt.cell)
			wantRun(t, h.run(t), syncrun.StatusOK, syncrun.Counts{Skipped: 1})
			if got := h.fake.Calls() - before; got != 0 {
				t.Fatalf("%d provider calls for a placeholder, want 0: %+v", got, h.fake.Requests()[before:])
			}
		})
	}

	t.Run("cid 0 with a real TAC", func(t *testing.T) {
		at = at.Add(5 * time.Minute)
		before := h.fake.Calls()
		h.report(t, serial, at, "LTE", "234", "30", `{"tac":"3211","cid":"0"}`)
		wantRun(t, h.run(t), syncrun.StatusOK, syncrun.Counts{Fetched: 1, Skipped: 1})
		reqs := h.fake.Requests()[before:]
		if len(reqs) != 1 || reqs[0].Radio != "lte" || reqs[0].Cells[0].LAC != 3211 ||
			reqs[0].Cells[0].CID != 0 {
			t.Fatalf("requests %+v, want exactly one for lte 3211/0", reqs)
		}
	})
}

// TestJob_MoveThreshold moves a router 300 m (no row), then 700 m from
// where it was recorded (a row), and checks the history.
func TestJob_MoveThreshold(t *testing.T) {
	h := newHarness(t, harnessOpts{fixture: true})
	h.run(t)
	const serial = "6000000001"

	near := geotest.CellKey{Radio: "lte", MCC: 234, MNC: 30, LAC: 3211, CID: 21283330}
	far := geotest.CellKey{Radio: "lte", MCC: 234, MNC: 30, LAC: 3212, CID: 21283400}
	h.fake.Add(near, offsetNorth(fixLondon, 300))
	h.fake.Add(far, offsetNorth(fixLondon, 700))

	h.report(t, serial, dayEnd.Add(time.Hour), "LTE", "234", "30", `{"tac":3211,"cid":21283330}`)
	wantRun(t, h.run(t), syncrun.StatusOK, syncrun.Counts{Fetched: 1, Skipped: 3})
	if got := h.history(t, serial); len(got) != 1 {
		t.Fatalf("%d history rows after a 300 m move, want 1", len(got))
	}

	// 700 m from the recorded position, 400 m from the last cell.
	h.report(t, serial, dayEnd.Add(2*time.Hour), "LTE", "234", "30", `{"tac":3212,"cid":21283400}`)
	wantRun(t, h.run(t), syncrun.StatusOK, syncrun.Counts{Fetched: 1, Changed: 1, Skipped: 2})
	got := h.history(t, serial)
	if len(got) != 2 {
		t.Fatalf("%d history rows after a 700 m move, want 2", len(got))
	}
	if got[0].moved != -1 || math.Abs(got[1].moved-700) > 1 ||
		!got[1].at.Equal(dayEnd.Add(2*time.Hour)) {
		t.Fatalf("history %+v; want the first without moved_m, the second moved 700 m at %s",
			got, dayEnd.Add(2*time.Hour))
	}
}

// TestJob_BadKey checks a refused key fails the run with a clear reason.
func TestJob_BadKey(t *testing.T) {
	h := newHarness(t, harnessOpts{fixture: true, key: "FAKE-wrong-token"})
	res := h.run(t)
	if res.Status != syncrun.StatusFailed || !strings.Contains(res.Error, "provider refused the key") ||
		!strings.Contains(res.Error, "Invalid token") {
		t.Fatalf("run %s: %q; want failed, naming the refused key", res.Status, res.Error)
	}
	if h.fake.Calls() != 1 {
		t.Fatalf("%d calls, want 1: the run stops at the first refusal", h.fake.Calls())
	}
}

// TestJob_WrongEndpoint checks a URL that is not the process API fails
// the run instead of every router.
func TestJob_WrongEndpoint(t *testing.T) {
	h := newHarness(t, harnessOpts{fixture: true})
	h.fake.FailNext(geotest.Failure{Status: 404, Body: "not found"})
	res := h.run(t)
	if res.Status != syncrun.StatusFailed || !strings.Contains(res.Error, "HTTP 404") {
		t.Fatalf("run %s: %q; want failed on the 404", res.Status, res.Error)
	}
}

// TestJob_NoBalance checks an exhausted balance fails the run too.
func TestJob_NoBalance(t *testing.T) {
	h := newHarness(t, harnessOpts{fixture: true})
	h.fake.SetBalance(0)
	res := h.run(t)
	if res.Status != syncrun.StatusFailed || !strings.Contains(res.Error, "No balance") {
		t.Fatalf("run %s: %q; want failed on the balance", res.Status, res.Error)
	}
}

// TestJob_RateLimit checks 429 and 5xx are retried within the budget,
// and that a longer outage ends the run partial with the provider's
// Retry-After, resuming after the last router done.
func TestJob_RateLimit(t *testing.T) {
	t.Run("retried within budget", func(t *testing.T) {
		h := newHarness(t, harnessOpts{fixture: true})
		h.fake.FailNext(geotest.Failure{Status: 429, RetryAfter: "0"},
			geotest.Failure{Status: 503, Body: "upstream down"})
		wantRun(t, h.run(t), syncrun.StatusOK, syncrun.Counts{Fetched: 3, Changed: 2, Skipped: 1})
		if h.fake.Calls() != 5 {
			t.Fatalf("%d calls, want 5 (two retried)", h.fake.Calls())
		}
	})

	t.Run("partial with back-off", func(t *testing.T) {
		h := newHarness(t, harnessOpts{fixture: true})
		h.fake.FailNext(geotest.Failure{Status: 200, Body: `{"status":"ok","lat":51.5,"lon":-0.1}`},
			geotest.Failure{Status: 429, RetryAfter: "120"})
		res := h.run(t)
		if res.Status != syncrun.StatusPartial || !strings.Contains(res.Error, "429") ||
			time.Until(res.RetryAt) < 110*time.Second {
			t.Fatalf("run %s %q, retry at %s; want partial on 429 backing off 120 s",
				res.Status, res.Error, res.RetryAt)
		}
		if res.Counts != (syncrun.Counts{Fetched: 1, Changed: 1}) || h.fake.Calls() != 2 {
			t.Fatalf("counts %+v after %d calls; want the first router done, the second stopped "+
				"without retrying a 120 s Retry-After", res.Counts, h.fake.Calls())
		}

		next := h.run(t) // RunOnce ignores the back-off
		wantRun(t, next, syncrun.StatusOK, syncrun.Counts{Fetched: 2, Changed: 1, Skipped: 1})
	})
}

// TestJob_RunTimeout checks a run stopped by its time limit ends partial
// after its last checkpoint and the next run resumes there.
func TestJob_RunTimeout(t *testing.T) {
	h := newHarness(t, harnessOpts{fixture: true, runTimeout: 2 * time.Second})
	h.fake.SetDelay(3, time.Minute) // the third router's answer outlasts the run

	res := h.run(t)
	if res.Status != syncrun.StatusPartial || res.Counts.Fetched != 2 ||
		!strings.Contains(res.Error, "resumes from its cursor") {
		t.Fatalf("run %s %+v (%s); want partial after two routers", res.Status, res.Counts, res.Error)
	}

	h.fake.SetDelay(0, 0)
	calls := h.fake.Calls()
	wantRun(t, h.run(t), syncrun.StatusOK, syncrun.Counts{Fetched: 1, Skipped: 1})
	if got := h.fake.Calls() - calls; got != 1 {
		t.Fatalf("resumed run made %d calls, want 1: only the router not done", got)
	}
}

// TestJob_BadAnswer checks an unusable answer fails its router alone.
func TestJob_BadAnswer(t *testing.T) {
	h := newHarness(t, harnessOpts{fixture: true})
	h.fake.FailNext(geotest.Failure{Status: 200, Body: `<html>maintenance</html>`})
	res := h.run(t)
	if res.Status != syncrun.StatusPartial || res.Counts.Failed != 1 || res.Counts.Changed != 1 {
		t.Fatalf("run %s %+v (%s); want partial, one router failed and one located",
			res.Status, res.Counts, res.Error)
	}
}

// TestNew checks the job needs a client.
func TestNew(t *testing.T) {
	if _, err := geo.New(nil, geo.Config{}); err == nil {
		t.Fatal("New without a client: no error")
	}
}
