package importer_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/routerlogger/routerlogger/ingest/importer"
	"github.com/routerlogger/routerlogger/ingest/writer"
	"github.com/routerlogger/routerlogger/ingest/writer/writertest"
	"github.com/routerlogger/routerlogger/internal/db"
	"github.com/routerlogger/routerlogger/internal/pgtest"
	"github.com/routerlogger/routerlogger/internal/testkit"
)

// refusingSink fails the test when written to: the cases using it must
// fail before anything is written.
type refusingSink struct{ t testing.TB }

func (s refusingSink) Write(context.Context, writer.Batch) (writer.Result, error) {
	s.t.Error("sink written to, want the import to fail first")
	return writer.Result{}, errors.New("refused")
}

func TestImport_FileErrors(t *testing.T) {
	good := filepath.Join(mtuDir, "Data5G_151221.csv")
	tests := []struct {
		name   string
		files  func(t *testing.T) []string
		opt    importer.Options
		errHas []string
	}{
		{name: "missing file",
			files:  func(t *testing.T) []string { return []string{good, "/nonexistent/x.csv"} },
			opt:    importer.Options{Router: "r"},
			errHas: []string{"/nonexistent/x.csv", "no such file"}},
		{name: "directory",
			files:  func(t *testing.T) []string { return []string{t.TempDir()} },
			errHas: []string{"is a directory"}},
		{name: "no time column",
			files: func(t *testing.T) []string {
				return []string{writeFile(t, "notime.csv", "Sent Bytes,rsrp\n1,2\n")}
			},
			opt:    importer.Options{Router: "r"},
			errHas: []string{"notime.csv", "no time column", `"Sent Bytes", "rsrp"`}},
		{name: "map without time",
			files:  func(t *testing.T) []string { return []string{good} },
			opt:    importer.Options{Router: "r", Map: map[string]string{"tx": "Sent Bytes"}},
			errHas: []string{"Data5G_151221.csv", "no time column", "the map has no time field"}},
		{name: "mapped column missing",
			files: func(t *testing.T) []string { return []string{good} },
			opt: importer.Options{Router: "r",
				Map: map[string]string{"time": "Time", "rx": "Received Bytes"}},
			errHas: []string{"Data5G_151221.csv", `counters.total_rx_bytes="Received Bytes"`,
				"no such column", `"Sent Bytes"`}},
		{name: "unknown field in Options.Map",
			files:  func(t *testing.T) []string { return []string{good} },
			opt:    importer.Options{Router: "r", Map: map[string]string{"speed": "RATE"}},
			errHas: []string{"map", `unknown field "speed"`}},
		{name: "no router serial",
			files:  func(t *testing.T) []string { return []string{good} },
			errHas: []string{"Data5G_151221.csv", "no router serial", "--router"}},
		{name: "empty csv",
			files:  func(t *testing.T) []string { return []string{writeFile(t, "empty.csv", "")} },
			opt:    importer.Options{Router: "r"},
			errHas: []string{"empty.csv", "empty file"}},
		{name: "unguessable times",
			files: func(t *testing.T) []string {
				return []string{writeFile(t, "dates.csv", "Time,tx\n03/04/2022 10:00:00,1\n"+
					"05/06/2022 10:00:03,2\n")}
			},
			opt:    importer.Options{Router: "r"},
			errHas: []string{"dates.csv", `time column "Time"`, "ambiguous"}},
		{name: "truncated gzip",
			files: func(t *testing.T) []string {
				path := gzipFile(t, filepath.Join(mtuDir, "Data5G_110822.csv"))
				truncate(t, path)
				return []string{path}
			},
			opt:    importer.Options{Router: "r"},
			errHas: []string{"Data5G_110822.csv.gz", "unexpected EOF", "0 rows"}},
		{name: "no files",
			files:  func(t *testing.T) []string { return nil },
			errHas: []string{"no files"}},
		{name: "bad format",
			files:  func(t *testing.T) []string { return []string{good} },
			opt:    importer.Options{Router: "r", Format: "xlsx"},
			errHas: []string{`format "xlsx"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sum, err := importer.Import(t.Context(), refusingSink{t}, tt.files(t), tt.opt)
			checkError(t, err, tt.errHas...)
			if sum.Rows != 0 || sum.Files != 0 {
				t.Errorf("summary %+v after a failed check, want nothing imported", sum)
			}
		})
	}
}

// truncate cuts a file to half its size.
func truncate(t testing.TB, path string) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, st.Size()/2); err != nil {
		t.Fatal(err)
	}
}

// stoppingSink writes through a real writer and stops the database after
// a number of batches, as a database outage during an import would.
type stoppingSink struct {
	t       testing.TB
	w       *writer.Writer
	cluster *pgtest.Cluster
	after   int
	writes  int
}

func (s *stoppingSink) Write(ctx context.Context, b writer.Batch) (writer.Result, error) {
	if s.writes == s.after {
		s.cluster.Stop(s.t)
	}
	s.writes++
	return s.w.Write(ctx, b)
}

func TestImport_DatabaseDown(t *testing.T) {
	cluster := pgtest.StartCluster(t, pgtest.ClusterOptions{})
	pool := testkit.OpenMigrated(t, cluster.DSN)
	w := writertest.Start(t, pool, writer.Config{Timeout: 5 * time.Second, Mode: db.ModePlain})
	path := filepath.Join(mtuDir, "Data5G_171221.csv")
	rec := readRecording(t, path)
	m, err := importer.ParseMap(rec.mapSpec())
	if err != nil {
		t.Fatal(err)
	}
	opt := importer.Options{Router: "down-1", Map: m, BatchSize: 100}

	sink := &stoppingSink{t: t, w: w, cluster: cluster, after: 2}
	sum, err := importer.Import(t.Context(), sink, []string{path}, opt)
	if !errors.Is(err, writer.ErrUnavailable) {
		t.Fatalf("error %v, want one wrapping writer.ErrUnavailable", err)
	}
	checkError(t, err, "Data5G_171221.csv", "write lines 202 to 301", "200 rows", "safe")
	if sum.Rows != 200 || sum.Accepted != 200 || sum.Files != 0 || sum.PerFile[0].Done {
		t.Errorf("summary %+v, want the 200 rows of the two committed batches", sum)
	}

	// The committed batches stay; importing again completes the file and
	// counts them as duplicates.
	cluster.Start(t)
	again, err := importer.Import(t.Context(), w, []string{path}, opt)
	if err != nil {
		t.Fatalf("import after restart: %v", err)
	}
	if again.Duplicates != 200 || again.Accepted != len(rec.rows)-200 {
		t.Errorf("second import %+v, want 200 duplicates and %d accepted", again,
			len(rec.rows)-200)
	}
	if got := uplink(t, pool, "down-1"); got != rec.uplink {
		t.Errorf("uplink %d, want %d", got, rec.uplink)
	}
}
