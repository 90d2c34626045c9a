package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/routerlogger/routerlogger/sync/geo/geotest"
)

// runGeo runs `routerlogger sync geo --once` with env and returns the exit
// code and outputs.
func runGeo(t *testing.T, env map[string]string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(t.Context(), []string{"sync", "geo", "--once"}, func(k string) string { return env[k] },
		&out, &errOut)
	return exitCode(err, &errOut), out.String(), errOut.String()
}

func TestSyncGeo_Command(t *testing.T) {
	dsn := fixtureFleet(t)
	fake := geotest.New(t)
	fake.Add(geotest.CellKey{Radio: "lte", MCC: 234, MNC: 30, LAC: 3211, CID: 21283329},
		geotest.Fix{Lat: 51.5074, Lon: -0.1278, AccuracyM: 1200})
	fake.Add(geotest.CellKey{Radio: "lte", MCC: 234, MNC: 15, LAC: 1048, CID: 35104010},
		geotest.Fix{Lat: 53.8008, Lon: -1.5491, AccuracyM: 900})
	env := map[string]string{"DATABASE_URL": dsn, "ROUTERLOGGER_GEO_URL": fake.URL,
		"ROUTERLOGGER_GEO_KEY": geotest.Key, "ROUTERLOGGER_LOG_LEVEL": "error"}

	t.Run("no key", func(t *testing.T) {
		code, out, errOut := runGeo(t, map[string]string{"DATABASE_URL": dsn,
			"ROUTERLOGGER_GEO_URL": fake.URL})
		if code != 1 || !strings.Contains(errOut, "ROUTERLOGGER_GEO_KEY is not set") {
			t.Fatalf("exit %d, stdout %q, stderr %q; want exit 1 naming ROUTERLOGGER_GEO_KEY",
				code, out, errOut)
		}
		if fake.Calls() != 0 {
			t.Fatalf("%d provider calls without a key", fake.Calls())
		}
	})

	t.Run("bad key", func(t *testing.T) {
		bad := map[string]string{"ROUTERLOGGER_GEO_KEY": "FAKE-wrong"}
		for k, v := range env {
			if _, ok := bad[k]; !ok {
				bad[k] = v
			}
		}
		code, out, errOut := runGeo(t, bad)
		if code != 1 || !strings.Contains(out, "geo: failed") ||
			!strings.Contains(errOut, "provider refused the key: Invalid token") {
			t.Fatalf("exit %d, stdout %q, stderr %q; want a failed run naming the refused key",
				code, out, errOut)
		}
	})

	t.Run("once", func(t *testing.T) {
		before := fake.Calls()
		code, out, errOut := runGeo(t, env)
		if code != 0 || !strings.Contains(out, "geo: ok") ||
			!strings.Contains(out, "fetched 3, changed 2, failed 0, skipped 1") {
			t.Fatalf("exit %d, stdout %q, stderr %q; want ok: 3 cells asked, 2 routers located",
				code, out, errOut)
		}
		if got := fake.Calls() - before; got != 3 {
			t.Fatalf("%d provider calls, want 3", got)
		}

		code, out, _ = runGeo(t, env)
		if code != 0 || !strings.Contains(out, "fetched 0, changed 0, failed 0, skipped 3") {
			t.Fatalf("second run: exit %d, stdout %q; want every cell from the cache", code, out)
		}
	})
}
