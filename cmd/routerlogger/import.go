package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/routerlogger/routerlogger/ingest/importer"
	"github.com/routerlogger/routerlogger/ingest/reading"
	"github.com/routerlogger/routerlogger/ingest/writer"
	"github.com/routerlogger/routerlogger/internal/db"
)

func init() {
	commands["import"] = command{"load CSV or NDJSON recordings through the writer", runImport}
}

const importUsage = `import [--router SERIAL] [--map time=Time,tx_bytes='Sent Bytes'] [--map-file F] FILE...

Maps columns to reading fields by dotted path (counters.total_tx_bytes) or
alias (time, tx_bytes, rx_bytes, rsrp, rsrq, sinr, rssi, uptime). NDJSON in
the reading schema needs no map. Importing a file again changes nothing.`

func runImport(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "import", importUsage)
	f.args = true
	url := f.databaseURL()
	router := f.cfg.String("router", envs("IMPORT_ROUTER"), "", "serial of the router the rows belong to")
	mapSpec := f.cfg.String("map", nil, "", "column mapping, field=column,...")
	mapFile := f.cfg.String("map-file", nil, "", "YAML or JSON file mapping field: column")
	format := f.cfg.Enum("format", nil, importer.FormatAuto,
		[]string{importer.FormatAuto, importer.FormatCSV, importer.FormatNDJSON}, "input format")
	batch := f.cfg.Int("batch", nil, importer.DefaultBatchSize, 1, 100_000, "readings per transaction")
	gap := f.cfg.Duration("gap", envs("GAP"), 600*time.Second, time.Second, 7*24*time.Hour,
		"readings further apart are flagged as a gap")
	if err := f.parse(args); err != nil {
		return err
	}
	files := f.fs.Args()
	if len(files) == 0 {
		f.fs.Usage()
		return errUsage
	}

	m, err := mapping(*mapSpec, *mapFile)
	if err != nil {
		return err
	}
	log := f.logger()
	pool, err := openPool(ctx, *url, 4, true)
	if err != nil {
		return err
	}
	defer pool.Close()
	mode, err := db.Migrate(ctx, pool, log, db.TimescaleAuto)
	if err != nil {
		return err
	}

	w := writer.New(pool, writer.Config{Mode: mode, Gap: *gap, Logger: log, MaxBatch: int(*batch)})
	if err := w.Start(ctx); err != nil {
		return err
	}
	defer w.Close(context.WithoutCancel(ctx))

	var progress io.Writer
	if e.stderrTTY {
		progress = e.stderr
	}
	sum, err := importer.Import(ctx, w, files, importer.Options{
		Router: *router, Map: m, Format: *format, BatchSize: int(*batch),
		Parser: &reading.Parser{}, Progress: progress, Logger: log,
	})
	if err != nil && sum.Rows == 0 {
		return err
	}
	printImportSummary(e.stdout, sum)
	if sum.Rejected > 0 {
		fmt.Fprintf(e.stdout, "the reasons of the %d rejected rows are in the table rejects: "+
			"SELECT item_index, field, reason FROM rejects WHERE source = 'import' ORDER BY id DESC;\n", sum.Rejected)
	}
	return err
}

func mapping(spec, file string) (map[string]string, error) {
	switch {
	case spec != "" && file != "":
		return nil, fmt.Errorf("give --map or --map-file, not both")
	case spec != "":
		return importer.ParseMap(spec)
	case file != "":
		return importer.LoadMapFile(file)
	}
	return nil, nil
}

func printImportSummary(w io.Writer, s importer.Summary) {
	for _, fs := range s.PerFile {
		fmt.Fprintf(w, "%s: %d rows, %d accepted, %d duplicates, %d rejected, tx %d B, rx %d B%s\n",
			fs.Path, fs.Rows, fs.Accepted, fs.Duplicates, fs.Rejected, fs.TxAdded, fs.RxAdded,
			eventList(fs.Events))
	}
	fmt.Fprintf(w, "imported %d file(s): %d rows read, %d accepted, %d duplicates, %d rejected; "+
		"usage added tx %d B, rx %d B%s\n",
		s.Files, s.Rows, s.Accepted, s.Duplicates, s.Rejected, s.TxAdded, s.RxAdded, eventList(s.Events))
}

// eventList formats event counts as ", events: glitch 1, gap 2".
func eventList(ev map[string]int) string {
	if len(ev) == 0 {
		return ""
	}
	names := make([]string, 0, len(ev))
	for n := range ev {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s %d", n, ev[n])
	}
	return ", events: " + strings.Join(parts, ", ")
}
