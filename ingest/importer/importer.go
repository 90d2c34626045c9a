// Package importer imports recordings of router readings from CSV and
// NDJSON files through the writer, the same path HTTP and MQTT readings
// take.
//
// Every row becomes a reading by way of the one reading parser: a CSV row
// is turned into a JSON object with its mapped cells, as strings, at their
// schema paths and parsed by [reading.Parser.Parse], so "N/A", blanks,
// integral floats and out-of-range radio values are treated exactly as
// they are over HTTP. A bad row is stored as a reject with its line and
// never stops the import; an unreadable file, a CSV without a time column
// or a database failure does.
//
// Re-running an import is safe: a reading whose router and time are
// already stored is a duplicate and changes nothing.
package importer

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/routerlogger/routerlogger/ingest/reading"
	"github.com/routerlogger/routerlogger/ingest/writer"
)

// DefaultBatchSize is the number of readings per writer batch when
// [Options.BatchSize] is not set.
const DefaultBatchSize = 2000

// The formats [Options.Format] accepts.
const (
	FormatAuto   = "auto"
	FormatCSV    = "csv"
	FormatNDJSON = "ndjson"
)

// Sink is what the importer needs of *writer.Writer.
type Sink interface {
	Write(ctx context.Context, b writer.Batch) (writer.Result, error)
}

var _ Sink = (*writer.Writer)(nil)

// Options tune [Import]. The zero value imports with guessed CSV columns,
// the default parser and no progress bar.
type Options struct {
	// Router is the serial of every row of a CSV file (CSV rows usually
	// carry none); it overrides a mapped device_id column. For NDJSON it
	// overrides or fills each line's device_id when set.
	Router string
	// Map maps reading fields to CSV column names, such as
	// {"time": "Time", "tx_bytes": "Sent Bytes"}; keys are schema paths or
	// the aliases [ParseMap] accepts. Empty means the columns are guessed
	// by their names. NDJSON lines are readings already and ignore it.
	Map map[string]string
	// Format is FormatAuto (by extension: .csv, or .ndjson, .jsonl and
	// .json; else by the first byte), FormatCSV or FormatNDJSON. Empty
	// means FormatAuto. A .gz suffix is decompressed.
	Format string
	// BatchSize is the number of readings per writer batch; zero or
	// negative means DefaultBatchSize.
	BatchSize int
	// Parser parses every row and bounds future timestamps; nil means a
	// zero reading.Parser.
	Parser *reading.Parser
	// Progress receives a progress bar over the files' bytes; nil means
	// none. Pass a terminal only.
	Progress io.Writer
	// Logger receives the mapping used for each file and a line per file
	// imported; nil means none.
	Logger *slog.Logger
}

// Summary says what an import did. Counts are of committed batches only;
// a batch cut short by the context may have committed without being
// counted.
type Summary struct {
	// Files is the number of files fully imported.
	Files int
	Counts
	PerFile []FileSummary
}

// Counts are the outcomes of committed rows.
type Counts struct {
	// Rows is the number of data rows (CSV records after the header, or
	// non-blank NDJSON lines) committed, whatever their outcome.
	Rows       int
	Accepted   int
	Duplicates int
	// Rejected counts the rows stored as rejects, by the importer (bad
	// rows) or by the writer.
	Rejected int
	// TxAdded and RxAdded are the usage bytes the import added.
	TxAdded int64
	RxAdded int64
	// Events counts the stored samples by usage event (glitch, reboot,
	// gap, ...), as the writer flagged them on storing.
	Events map[string]int
}

// add counts one committed batch of rows.
func (c *Counts) add(rows int, res writer.Result) {
	c.Rows += rows
	c.Accepted += res.Accepted
	c.Duplicates += res.Duplicates
	c.Rejected += len(res.Rejected)
	c.TxAdded += res.TxAdded
	c.RxAdded += res.RxAdded
	for ev, n := range res.Events {
		if c.Events == nil {
			c.Events = map[string]int{}
		}
		c.Events[ev] += n
	}
}

// FileSummary says what the import of one file did and how it was read.
type FileSummary struct {
	Path   string
	Format string // FormatCSV or FormatNDJSON
	// Mapping is the reading field -> column mapping used for a CSV file,
	// keyed by schema path; MappingGuessed is set when it was guessed from
	// the column names. TimeLayout names the time layout guessed from the
	// first rows.
	Mapping        map[string]string
	MappingGuessed bool
	TimeLayout     string
	// Unmapped lists the CSV columns that were not imported.
	Unmapped []string

	Counts
	// Done is set when the whole file was committed.
	Done bool
}

// Import reads every file and writes its readings to sink in batches of
// [Options.BatchSize], with source import and permission to register new
// routers. Files are checked first (readable, format known, CSV columns
// mapped), so a typo in the mapping fails before anything is written.
//
// Import stops at the first file that cannot be read or the first batch
// the sink does not commit, and returns the summary of what was committed
// so far with the error. Committed batches stay; importing again is safe,
// since readings already stored are duplicates.
func Import(ctx context.Context, sink Sink, files []string, opt Options) (Summary, error) {
	opt, err := opt.withDefaults()
	if err != nil {
		return Summary{}, err
	}
	if len(files) == 0 {
		return Summary{}, fmt.Errorf("import: no files given")
	}

	plans := make([]*plan, 0, len(files))
	var total int64
	for _, path := range files {
		p, err := prepare(path, opt)
		if err != nil {
			return Summary{}, err
		}
		plans = append(plans, p)
		total += p.size
	}

	bar := newProgress(opt.Progress, total)
	var sum Summary
	for _, p := range plans {
		err := importFile(ctx, sink, p, opt, bar, &sum)
		sum.PerFile = append(sum.PerFile, p.summary)
		if err != nil {
			bar.finish(false)
			return sum, fmt.Errorf("%w (%d rows of this import were committed; "+
				"importing again is safe, stored rows are duplicates)", err, sum.Rows)
		}
		sum.Files++
	}
	bar.finish(true)
	return sum, nil
}

// withDefaults checks opt and fills in its defaults.
func (o Options) withDefaults() (Options, error) {
	o.Router = strings.TrimSpace(o.Router)
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.Parser == nil {
		o.Parser = &reading.Parser{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}

	switch o.Format = strings.ToLower(strings.TrimSpace(o.Format)); o.Format {
	case "":
		o.Format = FormatAuto
	case FormatAuto, FormatCSV, FormatNDJSON:
	default:
		return o, fmt.Errorf("import: format %q: want auto, csv or ndjson", o.Format)
	}

	if len(o.Map) > 0 {
		m, err := canonicalMap(o.Map)
		if err != nil {
			return o, fmt.Errorf("import: map: %w", err)
		}
		o.Map = m
	}
	return o, nil
}

// importFile imports one prepared file, adding its counts to sum.
func importFile(ctx context.Context, sink Sink, p *plan, opt Options, bar *progress,
	sum *Summary) error {
	bar.describe(p.name)
	b := &batcher{sink: sink, size: opt.BatchSize, file: &p.summary, sum: sum,
		batch: newBatch()}

	var err error
	if p.summary.Format == FormatCSV {
		err = importCSV(ctx, p, opt, bar, b)
	} else {
		if len(opt.Map) > 0 {
			opt.Logger.Warn("column map ignored: ndjson lines are readings already",
				"file", p.path)
		}
		err = importNDJSON(ctx, p, opt, bar, b)
	}
	if err != nil {
		return fmt.Errorf("import %s: %w", p.path, err)
	}
	if err := b.flush(ctx); err != nil {
		return fmt.Errorf("import %s: %w", p.path, err)
	}

	p.summary.Done = true
	s := p.summary
	opt.Logger.Info("file imported", "file", p.path, "rows", s.Rows, "accepted", s.Accepted,
		"duplicates", s.Duplicates, "rejected", s.Rejected, "tx_added", s.TxAdded,
		"rx_added", s.RxAdded)
	return nil
}
