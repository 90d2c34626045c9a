package importer

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/routerlogger/routerlogger/internal/timeparse"
)

// guessRows is how many data rows the time layout is guessed from.
const guessRows = 100

// errStuck is returned when the CSV reader fails on the same input twice;
// it does not happen with encoding/csv, but it must not loop forever.
var errStuck = errors.New("csv reader made no progress")

// csvRows reads CSV records and the raw text of each.
type csvRows struct {
	r   *csv.Reader
	rec *recorder
	// off is the input offset where the next record starts.
	off int64
}

// newCSVRows reads CSV from r. The delimiter is guessed from the first
// line: a comma unless semicolons or tabs are more frequent.
func newCSVRows(r io.Reader) *csvRows {
	br := bufio.NewReaderSize(r, 64<<10)
	comma := sniffComma(br)

	rec := &recorder{r: br}
	cr := csv.NewReader(rec)
	cr.Comma = comma
	cr.FieldsPerRecord = -1 // a short row is a reject, not the end of the file
	cr.LazyQuotes = true
	cr.ReuseRecord = true
	return &csvRows{r: cr, rec: rec}
}

// sniffComma picks the delimiter most frequent in the first line.
func sniffComma(br *bufio.Reader) rune {
	head, _ := br.Peek(br.Size())
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		head = head[:i]
	}
	comma, best := ',', bytes.Count(head, []byte(","))
	for _, c := range []rune{';', '\t'} {
		if n := bytes.Count(head, []byte(string(c))); n > best {
			comma, best = c, n
		}
	}
	return comma
}

// next returns the next record, its 1-based line and its raw text
// without the line end. The raw text is valid until the next call. A
// *csv.ParseError is about this record only; io.EOF ends the input; any
// other error is fatal.
func (c *csvRows) next() (record []string, line int, raw []byte, err error) {
	c.rec.discard(c.off)
	record, err = c.r.Read()
	if errors.Is(err, io.EOF) {
		return nil, 0, nil, io.EOF
	}
	var pe *csv.ParseError
	if err != nil && !errors.As(err, &pe) {
		return nil, 0, nil, err
	}

	end := c.r.InputOffset()
	raw = bytes.TrimRight(c.rec.slice(c.off, end), "\r\n")
	if err != nil {
		line = pe.StartLine
		if end <= c.off {
			return nil, line, raw, fmt.Errorf("line %d: %w: %v", line, errStuck, pe.Err)
		}
	} else {
		line, _ = c.r.FieldPos(0)
	}
	raw = bytes.TrimLeft(raw, "\r\n") // csv skips blank lines before a record
	c.off = end
	return record, line, raw, err
}

// recorder keeps the bytes read through it from a start offset on, so
// that the raw text of a CSV record can be cut out after csv.Reader read
// it.
type recorder struct {
	r    io.Reader
	buf  []byte
	base int64 // input offset of buf[0]
}

// Read reads from the underlying reader and keeps what it read.
func (r *recorder) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.buf = append(r.buf, p[:n]...)
	return n, err
}

// slice returns the bytes between two input offsets still held.
func (r *recorder) slice(from, to int64) []byte {
	from, to = max(from, r.base), min(to, r.base+int64(len(r.buf)))
	if from >= to {
		return nil
	}
	return r.buf[from-r.base : to-r.base]
}

// discard drops the bytes before offset upto.
func (r *recorder) discard(upto int64) {
	if n := upto - r.base; n > 0 {
		n = min(n, int64(len(r.buf)))
		r.buf = append(r.buf[:0], r.buf[n:]...)
		r.base += n
	}
}

// prepareCSV reads the header and the first rows of a CSV file and
// decides its column mapping and time layout.
func prepareCSV(p *plan, opt Options) (*csvLayout, error) {
	f, err := p.open(nil)
	if err != nil {
		return nil, err
	}
	defer f.Close()

	rows := newCSVRows(f)
	header, err := readHeader(rows)
	if err != nil {
		return nil, err
	}
	l, err := newCSVLayout(header, opt)
	if err != nil {
		return nil, err
	}

	samples, err := timeSamples(rows, l.time.index)
	if err != nil {
		return nil, err
	}
	if err := l.guessTime(samples); err != nil {
		return nil, err
	}
	l.describe(&p.summary)
	opt.Logger.Info("import mapping", "file", p.path, "mapping", l.mappingText(),
		"guessed", l.guessed, "time_layout", l.timeLayout, "unmapped", l.unmapped())
	return l, nil
}

// readHeader reads the header row, trimmed and without a byte order mark.
func readHeader(rows *csvRows) ([]string, error) {
	rec, _, _, err := rows.next()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("empty file, want a CSV header row")
	}
	if err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}

	header := slices.Clone(rec)
	for i := range header {
		header[i] = strings.TrimSpace(header[i])
	}
	header[0] = strings.TrimPrefix(header[0], string(utf8BOM))
	return header, nil
}

// timeSamples returns the time cells of the first guessRows rows.
func timeSamples(rows *csvRows, index int) ([]string, error) {
	var out []string
	for len(out) < guessRows {
		rec, _, _, err := rows.next()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if index < len(rec) {
			out = append(out, rec[index])
		}
	}
	return out, nil
}

// guessTime picks the time layout from samples with timeparse.Guess. When
// some samples fit no layout, they are left out (those rows become
// rejects) and the rest decide.
func (l *csvLayout) guessTime(samples []string) error {
	parse, name, err := timeparse.Guess(samples)
	if err != nil {
		var good []string
		for _, s := range samples {
			if _, _, e := timeparse.Guess([]string{s}); e == nil {
				good = append(good, s)
			}
		}
		if len(good) > 0 && len(good) < len(samples) {
			parse, name, err = timeparse.Guess(good)
		}
	}
	switch {
	case err != nil && !slices.ContainsFunc(samples, isNotBlank):
		// No data rows, or none with a time: every row will be a reject.
		parse, name = timeparse.Parse, "none (no time values in the first rows)"
	case err != nil:
		return fmt.Errorf("time column %q: %w", l.time.name, err)
	}
	l.parseTime, l.timeLayout = parse, name
	return nil
}

// importCSV reads every data row of a prepared CSV file into b.
func importCSV(ctx context.Context, p *plan, opt Options, bar *progress, b *batcher) error {
	f, err := p.open(bar)
	if err != nil {
		return err
	}
	defer f.Close()

	rows := newCSVRows(f)
	if _, err := readHeader(rows); err != nil {
		return err
	}
	layout := p.csv
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		rec, line, raw, err := rows.next()
		var pe *csv.ParseError
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case err != nil && !errors.As(err, &pe):
			return err
		}
		r := csvRecord{fields: rec, line: line, raw: raw, err: err}
		if err := layout.row(ctx, b, opt.Parser, p.name, r); err != nil {
			return err
		}
	}
}

// isNotBlank reports whether s has more than white space.
func isNotBlank(s string) bool { return strings.TrimSpace(s) != "" }
