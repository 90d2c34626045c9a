package importer_test

import (
	"bytes"
	"compress/gzip"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/routerlogger/routerlogger/ingest/importer"
	"github.com/routerlogger/routerlogger/ingest/reading"
	"github.com/routerlogger/routerlogger/ingest/writer"
	"github.com/routerlogger/routerlogger/ingest/writer/writertest"
	"github.com/routerlogger/routerlogger/internal/testkit"
)

// writeFile writes text to name in a temporary folder and returns its path.
func writeFile(t testing.TB, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// storedReject is one row of the rejects table.
type storedReject struct {
	index          int
	field, reason  string
	serial, source string
	payload        string
}

// rejects returns the stored rejects in index order.
func rejects(t testing.TB, pool *pgxpool.Pool) []storedReject {
	t.Helper()
	rows, err := pool.Query(t.Context(), `SELECT item_index, coalesce(field, ''), reason,
		coalesce(router_serial, ''), source, coalesce(payload, '') FROM rejects ORDER BY item_index`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []storedReject
	for rows.Next() {
		var r storedReject
		if err := rows.Scan(&r.index, &r.field, &r.reason, &r.serial, &r.source,
			&r.payload); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestImport_BadRows(t *testing.T) {
	pool := testkit.MigratedDB(t)
	w := writertest.Start(t, pool, writer.Config{})

	// Line numbers count the header as line 1. The guessed mapping picks
	// Time, Sent Bytes and rsrp(dBm); RATE is left out.
	lines := []string{
		"Time,Sent Bytes,rsrp(dBm),RATE(MBit/s)",
		"Mon Jun 27 09:28:11 UTC 2022,1000,-90,0",
		"Mon Jun 27 09:28:14 UTC 2022,1500,0,1", // detached: rsrp nulled, row kept
		"yesterday at noon,1700,-90,0",
		"Mon Jun 27 09:28:20 UTC 2022,-5,-90,0",
		"",
		"Mon Jun 27 09:28:23 UTC 2022,2500,N/A,0",
		"Mon Jun 27 09:28:26 UTC 2022,2600",
		"Mon Jun 27 09:28:29 UTC 2022,12.5,-91,0",
		"Mon Jun 27 09:28:32 UTC 2022,3000.0,-92,0", // an integral float is an integer
	}
	path := writeFile(t, "bad.csv", strings.Join(lines, "\r\n")+"\r\n")

	sum, err := importer.Import(t.Context(), w, []string{path}, importer.Options{Router: "bad-1"})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Rows != 8 || sum.Accepted != 4 || sum.Rejected != 4 || sum.Files != 1 {
		t.Errorf("summary %+v, want 8 rows: 4 accepted, 4 rejected", sum)
	}
	if got := uplink(t, pool, "bad-1"); got != 2000 || sum.TxAdded != 2000 {
		t.Errorf("uplink %d, summary %d, want 2000 (1000 -> 3000 over the good rows)",
			got, sum.TxAdded)
	}
	if n := countWhere(t, pool, samplesOf, "bad-1", "rsrp IS NULL"); n != 2 {
		t.Errorf("%d samples with rsrp NULL, want 2 (0 dBm and N/A)", n)
	}

	fs := sum.PerFile[0]
	if !fs.MappingGuessed || fs.Mapping["counters.total_tx_bytes"] != "Sent Bytes" ||
		fs.Mapping["cell.rsrp"] != "rsrp(dBm)" || fs.Mapping["timestamp"] != "Time" ||
		fs.TimeLayout != "unix date" {
		t.Errorf("file summary %+v: want the guessed mapping and the unix date layout", fs)
	}

	want := []struct {
		index         int
		field, reason string
	}{
		{4, "timestamp", `bad.csv:4: column "Time": `},
		{5, "counters.total_tx_bytes", `bad.csv:5: column "Sent Bytes": value -5 is negative`},
		{8, "", "bad.csv:8: row has 2 fields, the header has 4"},
		{9, "counters.total_tx_bytes", `bad.csv:9: column "Sent Bytes": value "12.5"`},
	}
	got := rejects(t, pool)
	if len(got) != len(want) {
		t.Fatalf("rejects %+v, want %d", got, len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.index != w.index || g.field != w.field || !strings.HasPrefix(g.reason, w.reason) ||
			g.serial != "bad-1" || g.source != string(reading.SourceImport) ||
			g.payload != lines[w.index-1] {
			t.Errorf("reject %d: %+v, want index %d field %q reason %q... payload %q",
				i, g, w.index, w.field, w.reason, lines[w.index-1])
		}
	}
}

// expectedTotals reads the fixture's expected usage per router.
func expectedTotals(t testing.TB) map[string][2]int64 { return testkit.ExpectedUsage(t) }

func TestImport_NDJSONFixture(t *testing.T) {
	pool := testkit.MigratedDB(t)
	w := writertest.Start(t, pool, writer.Config{})
	path := filepath.Join(fixtures, "router-telemetry-http.jsonl")

	// Small batches, so that the day's late sample and glitch fall in
	// different batches than the readings around them.
	sum, err := importer.Import(t.Context(), w, []string{path},
		importer.Options{BatchSize: 37})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Rejected != 0 || sum.Accepted != sum.Rows || sum.PerFile[0].Format != "ndjson" {
		t.Errorf("summary %+v, want every line accepted as ndjson", sum)
	}

	want := expectedTotals(t)
	var wantTx, wantRx int64
	for serial, tr := range want {
		var tx, rx int64
		err := pool.QueryRow(t.Context(), `SELECT sum(tx_bytes)::bigint, sum(rx_bytes)::bigint
			FROM router_usage_daily WHERE serial = $1`, serial).Scan(&tx, &rx)
		if err != nil {
			t.Fatalf("%s: %v", serial, err)
		}
		if tx != tr[0] || rx != tr[1] {
			t.Errorf("%s: tx %d rx %d, want %d %d", serial, tx, rx, tr[0], tr[1])
		}
		wantTx, wantRx = wantTx+tr[0], wantRx+tr[1]
	}
	if sum.TxAdded != wantTx || sum.RxAdded != wantRx {
		t.Errorf("summary added tx %d rx %d, want %d %d", sum.TxAdded, sum.RxAdded, wantTx, wantRx)
	}
}

func TestImport_NDJSONRouter(t *testing.T) {
	pool := testkit.MigratedDB(t)
	w := writertest.Start(t, pool, writer.Config{})
	lines := []string{
		`{"timestamp":"2025-03-14T10:00:00Z","counters":{"total_tx_bytes":100}}`,
		`{"device_id":"other","timestamp":"2025-03-14T10:05:00Z","counters":{"total_tx_bytes":150}}`,
		``,
		`{"device_id":7,"timestamp":1741947000,"counters":{"total_tx_bytes":"175"}}`,
		`{"device_id":"x","counters":{"total_tx_bytes":200}}`,
		`not json`,
		`{"timestamp":"2025-03-14T10:15:00Z","counters":{"total_tx_bytes":-1}}`,
	}
	path := writeFile(t, "day.log", strings.Join(lines, "\n"))

	sum, err := importer.Import(t.Context(), w, []string{path}, importer.Options{Router: "nd-1"})
	if err != nil {
		t.Fatal(err)
	}
	if sum.PerFile[0].Format != "ndjson" || sum.Rows != 6 || sum.Accepted != 3 ||
		sum.Rejected != 3 {
		t.Errorf("summary %+v, want ndjson (sniffed), 6 rows: 3 accepted, 3 rejected", sum)
	}
	if got := uplink(t, pool, "nd-1"); got != 75 {
		t.Errorf("uplink %d, want 75: every reading under the --router serial", got)
	}

	want := []struct {
		index int
		field string
	}{{5, "timestamp"}, {6, ""}, {7, "counters.total_tx_bytes"}}
	got := rejects(t, pool)
	if len(got) != len(want) {
		t.Fatalf("rejects %+v, want %d", got, len(want))
	}
	for i, w := range want {
		if got[i].index != w.index || got[i].field != w.field || got[i].serial != "nd-1" ||
			got[i].payload != lines[w.index-1] {
			t.Errorf("reject %d: %+v, want line %d field %q", i, got[i], w.index, w.field)
		}
	}
}

func TestImport_JSONArray(t *testing.T) {
	pool := testkit.MigratedDB(t)
	w := writertest.Start(t, pool, writer.Config{})
	text := "\xEF\xBB\xBF" + `[
		{"device_id":"arr-1","timestamp":"2025-03-14T10:00:00Z","counters":{"total_rx_bytes":10}},
		{"device_id":"arr-1","timestamp":"2025-03-14T10:05:00Z","counters":{"total_rx_bytes":"N/A"}},
		{"device_id":"arr-1","timestamp":"2025-03-14T10:10:00Z","counters":{"total_rx_bytes":90}},
		{"device_id":"","timestamp":"2025-03-14T10:15:00Z"},
		{"device_id":"arr-1","timestamp":"2025-03-15T01:00:00Z","counters":{"total_rx_bytes":95}}
	]`
	path := writeFile(t, "dump.json", text)

	// The parser's clock says the import runs at midnight, so the last
	// element lies an hour in the future.
	now := time.Date(2025, 3, 15, 0, 0, 0, 0, time.UTC)
	parser := &reading.Parser{Now: func() time.Time { return now }}
	sum, err := importer.Import(t.Context(), w, []string{path}, importer.Options{Parser: parser})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Rows != 5 || sum.Accepted != 3 || sum.Rejected != 2 || sum.RxAdded != 80 {
		t.Errorf("summary %+v, want 3 accepted, 2 rejected, 80 rx bytes", sum)
	}
	got := rejects(t, pool)
	if len(got) != 2 || got[0].index != 4 || got[0].field != "device_id" ||
		got[1].index != 5 || got[1].field != "timestamp" {
		t.Errorf("rejects %+v, want element 4 for device_id and 5 for timestamp", got)
	}
}

func TestImport_GzipProgressLog(t *testing.T) {
	pool := testkit.MigratedDB(t)
	w := writertest.Start(t, pool, writer.Config{})
	src := filepath.Join(mtuDir, "Data5G_171221.csv")
	rec := readRecording(t, src)
	path := gzipFile(t, src)

	var bar, logs bytes.Buffer
	sum, err := importer.Import(t.Context(), w, []string{path}, importer.Options{
		Router: "gz-1", Progress: &bar, BatchSize: 150,
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Accepted != len(rec.rows) || sum.TxAdded != rec.uplink || sum.PerFile[0].Format != "csv" {
		t.Errorf("summary %+v, want %d csv rows accepted and %d bytes", sum, len(rec.rows),
			rec.uplink)
	}
	if got := uplink(t, pool, "gz-1"); got != rec.uplink {
		t.Errorf("uplink %d, want %d", got, rec.uplink)
	}
	if s := bar.String(); !strings.Contains(s, filepath.Base(path)) || !strings.Contains(s, "100%") {
		t.Errorf("progress output %q, want the file name and 100%%", s)
	}
	for _, want := range []string{"import mapping", `timestamp=\"Time\"`,
		`counters.total_tx_bytes=\"Sent Bytes\"`, "guessed=true", `time_layout="unix date"`,
		"file imported"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log %q does not contain %q", logs.String(), want)
		}
	}
}

// gzipFile writes a gzipped copy of src to a temporary folder.
func gzipFile(t testing.TB, src string) string {
	t.Helper()
	raw, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(raw); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return writeFile(t, filepath.Base(src)+".gz", buf.String())
}
