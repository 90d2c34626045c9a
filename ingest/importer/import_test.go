package importer_test

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/routerlogger/routerlogger/ingest/importer"
	"github.com/routerlogger/routerlogger/ingest/writer"
	"github.com/routerlogger/routerlogger/ingest/writer/writertest"
	"github.com/routerlogger/routerlogger/internal/testkit"
)

var (
	mtuDir   = filepath.Join("..", "..", "..", "shared", "data", "mtu-5g")
	fixtures = filepath.Join("..", "..", "..", "shared", "fixtures")
)

// radioColumns maps the radio columns of the MTU recordings to fields.
// The NR (5G) and UMTS Ec/Io columns have no field in the reading schema.
var radioColumns = map[string]string{
	"rsrp(dBm)": "rsrp", "rsrq(dB)": "rsrq", "rssi(dBm)": "rssi",
	"rsrpVal_signal_info(dBm)": "rsrp", "rsrqVal_signal_info(dB)": "rsrq",
	"rssilte_signal_info(dBm)": "rssi", "snrVal_signal_info(dB)": "sinr",
	"rssiumts_signal_info(dBm)": "rssi",
}

// detached are the values the MTU modem reports for a field when it is
// not attached; they are outside the valid ranges and must be stored as
// NULL.
var detached = map[string]float64{"rsrp": 0, "rssi": 0, "rsrq": -125, "sinr": -125}

// mtuFiles lists the CSV recordings.
func mtuFiles(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(mtuDir, "*.csv"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no recordings in %s (%v)", mtuDir, err)
	}
	return files
}

// recording is what a test reads from a CSV file on its own, without the
// importer, to check the import against.
type recording struct {
	header []string
	rows   [][]string
	// uplink is the sum of the increases between consecutive non-zero
	// Sent Bytes values, and zeros the number of rows with 0.
	uplink int64
	zeros  int
}

// readRecording reads a recording and computes its oracle. The oracle
// skips the zero rows and sums every increase; that is the true usage only
// because these files have no real counter reset (no value ever falls
// except to the glitch 0), so every fall is a glitch and there is no
// post-reset usage to add.
func readRecording(t testing.TB, path string) recording {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	all, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}

	rec := recording{header: all[0], rows: all[1:]}
	col := slices.Index(rec.header, "Sent Bytes")
	var last int64
	for i, row := range rec.rows {
		v, err := strconv.ParseInt(row[col], 10, 64)
		if err != nil {
			t.Fatalf("%s row %d: %v", path, i+2, err)
		}
		if v == 0 {
			rec.zeros++
			continue
		}
		if v < last {
			t.Fatalf("%s row %d: counter falls from %d to %d: a real reset, the oracle "+
				"does not hold", path, i+2, last, v)
		}
		if last > 0 {
			rec.uplink += v - last
		}
		last = v
	}
	return rec
}

// mapSpec returns the --map text for a recording: time, Sent Bytes and
// the radio columns it has.
func (r recording) mapSpec() string {
	spec := "time=Time,tx_bytes='Sent Bytes'"
	for _, h := range r.header {
		if f, ok := radioColumns[h]; ok {
			spec += fmt.Sprintf(",%s='%s'", f, h)
		}
	}
	return spec
}

// detachedCounts counts, per mapped radio field, the rows with the
// detached value.
func (r recording) detachedCounts(t testing.TB) map[string]int {
	t.Helper()
	out := map[string]int{}
	for i, h := range r.header {
		f, ok := radioColumns[h]
		if !ok {
			continue
		}
		out[f] += 0
		for _, row := range r.rows {
			v, err := strconv.ParseFloat(row[i], 64)
			if err != nil {
				t.Fatalf("column %s: %v", h, err)
			}
			if v == detached[f] {
				out[f]++
			}
		}
	}
	return out
}

// uplink returns the router's uplink usage from router_usage_daily.
func uplink(t testing.TB, pool *pgxpool.Pool, serial string) int64 {
	t.Helper()
	var n int64
	err := pool.QueryRow(t.Context(), `SELECT coalesce(sum(tx_bytes), 0)::bigint
		FROM router_usage_daily WHERE serial = $1`, serial).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// countWhere counts the router's rows of a view or table matching cond.
func countWhere(t testing.TB, pool *pgxpool.Pool, from, serial, cond string) int {
	t.Helper()
	var n int
	q := "SELECT count(*) FROM " + from + " WHERE serial = $1 AND " + cond
	if err := pool.QueryRow(t.Context(), q, serial).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// samplesOf is the samples table with the router serial.
const samplesOf = "samples s JOIN routers r ON r.id = s.router_id"

// importFile imports one file under serial with spec as the map.
func importFile(t testing.TB, sink importer.Sink, path, serial, spec string) importer.Summary {
	t.Helper()
	m, err := importer.ParseMap(spec)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := importer.Import(t.Context(), sink, []string{path},
		importer.Options{Router: serial, Map: m})
	if err != nil {
		t.Fatalf("import %s: %v", path, err)
	}
	return sum
}

func TestImport_MTURecordings(t *testing.T) {
	pool := testkit.MigratedDB(t)
	w := writertest.Start(t, pool, writer.Config{})

	for _, path := range mtuFiles(t) {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rec := readRecording(t, path)
			serial := "mtu-" + strings.TrimSuffix(name, ".csv")

			sum := importFile(t, w, path, serial, rec.mapSpec())
			if sum.Rows != len(rec.rows) || sum.Accepted != len(rec.rows) || sum.Rejected != 0 {
				t.Errorf("rows %d accepted %d rejected %d, want all %d accepted",
					sum.Rows, sum.Accepted, sum.Rejected, len(rec.rows))
			}
			got := uplink(t, pool, serial)
			if got != rec.uplink || sum.TxAdded != rec.uplink {
				t.Errorf("uplink: usage_daily %d, summary %d, want %d", got, sum.TxAdded, rec.uplink)
			}
			glitches := countWhere(t, pool, "router_events", serial, "'glitch' = ANY(events)")
			if glitches != rec.zeros {
				t.Errorf("%d samples with a glitch event, want %d", glitches, rec.zeros)
			}
			for f, want := range rec.detachedCounts(t) {
				if n := countWhere(t, pool, samplesOf, serial, f+" IS NULL"); n != want {
					t.Errorf("%s: %d NULL samples, want the %d detached rows", f, n, want)
				}
			}
			t.Logf("%s: rows %d, uplink %d bytes, glitches %d", name, len(rec.rows), got, glitches)
		})
	}
}

func TestImport_Twice(t *testing.T) {
	pool := testkit.MigratedDB(t)
	w := writertest.Start(t, pool, writer.Config{})
	path := filepath.Join(mtuDir, "Data5G_151221.csv")
	rec := readRecording(t, path)
	spec := rec.mapSpec()

	first := importFile(t, w, path, "twice", spec)
	second := importFile(t, w, path, "twice", spec)

	if first.Accepted != len(rec.rows) {
		t.Errorf("first import accepted %d, want %d", first.Accepted, len(rec.rows))
	}
	if second.Duplicates != second.Rows || second.Rows != len(rec.rows) || second.Accepted != 0 {
		t.Errorf("second import: rows %d duplicates %d accepted %d, want all %d duplicates",
			second.Rows, second.Duplicates, second.Accepted, len(rec.rows))
	}
	if second.TxAdded != 0 {
		t.Errorf("second import added %d bytes", second.TxAdded)
	}
	if got := uplink(t, pool, "twice"); got != rec.uplink {
		t.Errorf("uplink after two imports %d, want %d", got, rec.uplink)
	}
}

// BenchmarkImport_MTURecordings imports every recording, each under a new
// serial per iteration, and reports rows per second end to end.
func BenchmarkImport_MTURecordings(b *testing.B) {
	pool := testkit.MigratedDB(b)
	w := writertest.Start(b, pool, writer.Config{})
	files := mtuFiles(b)
	rows, n := 0, 0
	for b.Loop() {
		for _, path := range files {
			serial := fmt.Sprintf("bench-%d-%s", n, filepath.Base(path))
			sum, err := importer.Import(b.Context(), w, []string{path},
				importer.Options{Router: serial})
			if err != nil {
				b.Fatal(err)
			}
			rows += sum.Rows
		}
		n++
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}
