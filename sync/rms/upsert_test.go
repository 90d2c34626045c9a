package rms_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/routerlogger/routerlogger/ingest/reading"
	"github.com/routerlogger/routerlogger/ingest/writer"
	"github.com/routerlogger/routerlogger/ingest/writer/writertest"
	"github.com/routerlogger/routerlogger/internal/testkit"
	"github.com/routerlogger/routerlogger/sync/rms"
	"github.com/routerlogger/routerlogger/sync/syncrun"
)

// parse parses telemetry lines as the HTTP intake does, a day after the
// fixture day.
func parse(t *testing.T, lines ...[]byte) []reading.Reading {
	t.Helper()
	return writertest.Parse(t, fixtureNow.Add(24*time.Hour), lines...)
}

// liveState is router_status and the samples, as text.
func liveState(t *testing.T, pool *pgxpool.Pool) string {
	t.Helper()
	var s string
	if err := pool.QueryRow(context.Background(), `SELECT
		(SELECT json_agg(s ORDER BY router_id)::text FROM router_status s) ||
		(SELECT count(*) || ' ' || sum(coalesce(tx_delta, 0) + coalesce(rx_delta, 0)) FROM samples)`).
		Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

type firmware struct {
	fw   string
	seen time.Time
}

func firmwareOf(t *testing.T, pool *pgxpool.Pool, serial string) firmware {
	t.Helper()
	var f firmware
	if err := pool.QueryRow(context.Background(), `SELECT coalesce(firmware, ''),
		coalesce(firmware_seen_at, '2000-01-01') FROM routers WHERE serial = $1`, serial).
		Scan(&f.fw, &f.seen); err != nil {
		t.Fatal(err)
	}
	f.seen = f.seen.UTC()
	return f
}

// TestJob_TelemetryOwnsLiveState loads the fixture day through the real
// writer, then syncs RMS: RMS fills inventory, never touches live state
// (RL-TEST-003's stale offline status included), stores a placeholder
// cell as none, and its daily usage of RL-TEST-001 equals ours.
func TestJob_TelemetryOwnsLiveState(t *testing.T) {
	pool := testkit.MigratedDB(t)
	w := writertest.Start(t, pool, writer.Config{})
	writertest.Write(t, w, parse(t, testkit.TelemetryLines(t)...)...)
	// RMS saw RL-TEST-002 last at 23:55:04; make its stored firmware an
	// older observation, and RL-TEST-003's a newer one than RMS's
	// (2025-03-13 18:02:11).
	if _, err := pool.Exec(context.Background(), `
		UPDATE routers SET firmware = 'OLD', firmware_seen_at = '2025-03-14 09:00:00+00'
		WHERE serial = '6000000002';
		UPDATE routers SET firmware = 'RUTX_TELEMETRY' WHERE serial = '6000000003'`); err != nil {
		t.Fatal(err)
	}
	before := liveState(t, pool)

	s := newSetup(t, pool, nil)
	if res := s.run(t); res.Status != syncrun.StatusOK || res.Counts.Changed != 3 {
		t.Fatalf("run: %+v, want ok with 3 changed", res)
	}
	if after := liveState(t, pool); after != before {
		t.Errorf("live state changed by RMS:\nbefore %s\nafter  %s", before, after)
	}

	// Inventory from RMS, MACs canonical.
	var rmsID int64
	var lan, wlan, model, imei string
	if err := pool.QueryRow(context.Background(), `SELECT rms_id, lan_mac, wlan_mac, model, imei
		FROM routers WHERE serial = '6000000003'`).Scan(&rmsID, &lan, &wlan, &model, &imei); err != nil {
		t.Fatal(err)
	}
	if rmsID != 1500003 || lan != "00:1E:42:A0:03:30" || wlan != "00:1E:42:A0:03:32" ||
		model != "RUTX11" || imei != "350000000000037" {
		t.Errorf("RL-TEST-003 inventory: %d %s %s %s %s", rmsID, lan, wlan, model, imei)
	}

	// Firmware: the newer observation wins, both ways.
	if f := firmwareOf(t, pool, "6000000002"); f.fw != "RUT9_R_00.07.06.20" ||
		!f.seen.Equal(time.Date(2025, 3, 14, 23, 55, 4, 0, time.UTC)) {
		t.Errorf("RL-TEST-002 firmware %+v, want RMS's newer observation", f)
	}
	if f := firmwareOf(t, pool, "6000000003"); f.fw != "RUTX_TELEMETRY" ||
		!f.seen.Equal(time.Date(2025, 3, 14, 23, 55, 5, 0, time.UTC)) {
		t.Errorf("RL-TEST-003 firmware %+v, want telemetry's newer observation kept", f)
	}

	// A newer reading brings firmware back from telemetry; a late one,
	// older than RMS's observation, does not.
	writertest.Write(t, w, parse(t, []byte(`{"device_id":"6000000002","timestamp":"2025-03-15T00:00:00Z",`+
		`"fw_version":"RUT9_R_00.07.07.1","uptime":400000}`))...)
	if f := firmwareOf(t, pool, "6000000002"); f.fw != "RUT9_R_00.07.07.1" {
		t.Errorf("after a newer reading: %+v", f)
	}
	if _, err := pool.Exec(context.Background(), `UPDATE routers SET firmware = 'RMS-NEWER',
		firmware_seen_at = '2025-03-15 00:30:00+00' WHERE serial = '6000000002'`); err != nil {
		t.Fatal(err)
	}
	writertest.Write(t, w, parse(t, []byte(`{"device_id":"6000000002","timestamp":"2025-03-15T00:10:00Z",`+
		`"fw_version":"RUT9_R_00.07.07.1","uptime":400600}`))...)
	if f := firmwareOf(t, pool, "6000000002"); f.fw != "RMS-NEWER" {
		t.Errorf("an older reading overwrote a newer observation: %+v", f)
	}

	// RMS's view, for display: RL-TEST-003 offline with no cell.
	var status string
	var lac, cell *int64
	if err := pool.QueryRow(context.Background(), `SELECT rms_status, rms_lac, rms_cell_id
		FROM rms_device_status WHERE serial = '6000000003'`).Scan(&status, &lac, &cell); err != nil {
		t.Fatal(err)
	}
	if status != "offline" || lac != nil || cell != nil {
		t.Errorf("RL-TEST-003 in RMS: %s lac %v cell %v, want offline with no cell", status, lac, cell)
	}
	if n := count(t, pool, `SELECT count(*) FROM rms_devices WHERE lac = 3211 AND cell_id = 21283329`); n != 1 {
		t.Errorf("RL-TEST-001's cell not stored")
	}

	checkReconciliation(t, pool)
}

func checkReconciliation(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	var rtx, rrx, otx, orx, diff int64
	if err := pool.QueryRow(context.Background(), `SELECT rms_tx_bytes, rms_rx_bytes,
		our_tx_bytes, our_rx_bytes, diff_bytes FROM usage_reconciliation
		WHERE serial = '6000000001' AND day = '2025-03-14'`).Scan(&rtx, &rrx, &otx, &orx, &diff); err != nil {
		t.Fatal(err)
	}
	want := testkit.ExpectedUsage(t)["6000000001"]
	if rtx != want[0] || rrx != want[1] || otx != rtx || orx != rrx || diff != 0 {
		t.Errorf("RL-TEST-001 2025-03-14: RMS %d/%d, ours %d/%d, diff %d; want both %d/%d, diff 0",
			rtx, rrx, otx, orx, diff, want[0], want[1])
	}
	t.Logf("RL-TEST-001 2025-03-14: RMS tx %d rx %d, ours tx %d rx %d, diff %d", rtx, rrx, otx, orx, diff)

	// The day before has RMS data and none of ours.
	if err := pool.QueryRow(context.Background(), `SELECT diff_bytes FROM usage_reconciliation
		WHERE serial = '6000000001' AND day = '2025-03-13'`).Scan(&diff); err != nil {
		t.Fatal(err)
	}
	if diff != 51200311+388104772 {
		t.Errorf("2025-03-13 diff %d, want RMS's whole total", diff)
	}
}

// TestJob_Matching: a device matches a router by serial, then IMEI, then
// LAN MAC, never by name; a bad MAC fails that device only.
func TestJob_Matching(t *testing.T) {
	pool := testkit.MigratedDB(t)
	if _, err := pool.Exec(context.Background(), `
		INSERT INTO routers (serial, name, imei) VALUES ('LEGACY-A', 'cafe', '350000000000029');
		INSERT INTO routers (serial, lan_mac) VALUES ('LEGACY-B', '00:1E:42:A0:03:30');
		INSERT INTO routers (serial, name) VALUES ('NAME-ONLY', 'RL-TEST-001')`); err != nil {
		t.Fatal(err)
	}
	s := newSetup(t, pool, func(o *rms.JobOptions) { o.PageSize = 10 })
	var bad map[string]any
	raw := s.fake.Fleet(1)[0]
	if err := json.Unmarshal(raw, &bad); err != nil {
		t.Fatal(err)
	}
	bad["mac"] = "00:1E:42:ZZ:00:01"
	badRaw, _ := json.Marshal(bad)
	s.fake.SetDevices(append(s.fake.Devices(), badRaw))

	res := s.run(t)
	if res.Status != syncrun.StatusPartial || res.Counts.Failed != 1 || res.Counts.Changed != 3 {
		t.Fatalf("run: %+v, want partial with 3 changed and the bad MAC failed", res)
	}
	for serial, want := range map[string]string{"LEGACY-A": "1500002", "LEGACY-B": "1500003",
		"6000000001": "1500001", "NAME-ONLY": "<nil>"} {
		var id *int64
		if err := pool.QueryRow(context.Background(), `SELECT rms_id FROM routers WHERE serial = $1`,
			serial).Scan(&id); err != nil {
			t.Fatalf("%s: %v", serial, err)
		}
		got := "<nil>"
		if id != nil {
			got = fmt.Sprint(*id)
		}
		if got != want {
			t.Errorf("%s: rms_id %s, want %s", serial, got, want)
		}
	}
	if l := s.runLog(t, res.RunID); len(l.errors) != 1 || !strings.Contains(l.errors[0], "ZZ") {
		t.Errorf("errors %q, want the bad MAC", l.errors)
	}
}
