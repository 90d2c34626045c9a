package importer

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/routerlogger/routerlogger/ingest/reading"
	"github.com/routerlogger/routerlogger/ingest/writer"
)

// column is one CSV column mapped to a reading field.
type column struct {
	path  string // schema path
	name  string // header cell
	index int
}

// csvLayout is how the rows of one CSV file become readings.
type csvLayout struct {
	header []string
	time   column
	// cols are the other mapped columns, in the order of fields; a
	// device_id column is among them only when no router serial is given.
	cols   []column
	serial string // Options.Router
	// guessed is set when the mapping was guessed from the header.
	guessed    bool
	parseTime  func(string) (time.Time, error)
	timeLayout string
}

// csvRecord is one record as csvRows returned it.
type csvRecord struct {
	fields []string
	line   int
	raw    []byte
	err    error // a *csv.ParseError, or nil
}

// newCSVLayout maps the header's columns with opt.Map, or by their names
// when it is empty, and checks that a time column and a serial exist.
func newCSVLayout(header []string, opt Options) (*csvLayout, error) {
	l := &csvLayout{header: header, serial: opt.Router, guessed: len(opt.Map) == 0}
	var (
		cols []column
		err  error
	)
	if l.guessed {
		cols = guessColumns(header)
	} else if cols, err = mapColumns(header, opt.Map); err != nil {
		return nil, err
	}

	for _, c := range cols {
		switch {
		case c.path == fieldTime:
			l.time = c
		case c.path == fieldDeviceID && l.serial != "":
			// The router serial given for the file wins.
		default:
			l.cols = append(l.cols, c)
		}
	}

	if l.time.path == "" {
		return nil, l.noTimeError()
	}
	if l.serial == "" && !slices.ContainsFunc(l.cols, isDeviceID) {
		return nil, fmt.Errorf("no router serial: give one for the file (--router) " +
			"or map a device_id column")
	}
	return l, nil
}

// isDeviceID reports whether c is the device_id column.
func isDeviceID(c column) bool { return c.path == fieldDeviceID }

// noTimeError explains that the file has no time column.
func (l *csvLayout) noTimeError() error {
	if l.guessed {
		return fmt.Errorf("no time column: none of the columns %s is named like a time "+
			"(time, timestamp, date); map one with time=<column>", quoteList(l.header))
	}
	return fmt.Errorf("no time column: the map has no time field; map one with time=<column> "+
		"(columns: %s)", quoteList(l.header))
}

// guessColumns maps the columns whose names, normalised, are a field's
// name, alias or usual column name; the first column wins a field.
func guessColumns(header []string) []column {
	var cols []column
	taken := make(map[string]bool)
	for i, h := range header {
		p, ok := fieldByGuess[normalizeColumn(h)]
		if !ok || taken[p] {
			continue
		}
		taken[p] = true
		cols = append(cols, column{path: p, name: h, index: i})
	}
	return sortColumns(cols)
}

// mapColumns finds the column of every mapped field, exactly or else
// ignoring case.
func mapColumns(header []string, m map[string]string) ([]column, error) {
	var cols []column
	for _, f := range fields {
		name, ok := m[f.path]
		if !ok {
			continue
		}
		i := findColumn(header, name)
		if i < 0 {
			return nil, fmt.Errorf("map %s=%q: no such column; columns: %s",
				f.path, name, quoteList(header))
		}
		cols = append(cols, column{path: f.path, name: header[i], index: i})
	}
	return cols, nil
}

// findColumn returns the index of the column named name, or -1.
func findColumn(header []string, name string) int {
	name = strings.TrimSpace(name)
	if i := slices.Index(header, name); i >= 0 {
		return i
	}
	return slices.IndexFunc(header, func(h string) bool { return strings.EqualFold(h, name) })
}

// sortColumns orders columns as fields lists their fields.
func sortColumns(cols []column) []column {
	order := make(map[string]int, len(fields))
	for i, f := range fields {
		order[f.path] = i
	}
	slices.SortFunc(cols, func(a, b column) int { return order[a.path] - order[b.path] })
	return cols
}

// quoteList quotes and joins column names for messages.
func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}

// used returns the time column and the other mapped columns.
func (l *csvLayout) used() []column {
	return append([]column{l.time}, l.cols...)
}

// describe records the mapping in the file's summary.
func (l *csvLayout) describe(s *FileSummary) {
	s.Mapping = make(map[string]string)
	for _, c := range l.used() {
		s.Mapping[c.path] = c.name
	}
	s.MappingGuessed = l.guessed
	s.TimeLayout = l.timeLayout
	s.Unmapped = l.unmapped()
}

// mappingText renders the mapping as ParseMap reads it.
func (l *csvLayout) mappingText() string {
	parts := make([]string, 0, len(l.cols)+1)
	for _, c := range l.used() {
		parts = append(parts, c.path+"="+strconv.Quote(c.name))
	}
	return strings.Join(parts, ",")
}

// unmapped lists the columns that are not imported.
func (l *csvLayout) unmapped() []string {
	var out []string
	for i, h := range l.header {
		if !slices.ContainsFunc(l.used(), func(c column) bool { return c.index == i }) {
			out = append(out, h)
		}
	}
	return out
}

// row turns one record into a reading or a reject and hands it to b.
func (l *csvLayout) row(ctx context.Context, b *batcher, p *reading.Parser, file string,
	rec csvRecord) error {
	var (
		r    reading.Reading
		ferr *reading.FieldError
	)
	if rec.err != nil {
		ferr = &reading.FieldError{Reason: "csv: " + rec.err.Error()}
	} else {
		r, ferr = l.reading(p, rec.fields)
	}

	if ferr == nil {
		return b.add(ctx, rec.line, r)
	}
	return b.reject(ctx, writer.Reject{
		Index:   rec.line,
		Serial:  l.serialOf(rec.fields),
		Field:   ferr.Field,
		Reason:  fmt.Sprintf("%s:%d: %s", file, rec.line, ferr.Reason),
		Payload: slices.Clone(rec.raw),
	})
}

// serialOf returns the router serial of a row, when known.
func (l *csvLayout) serialOf(fields []string) string {
	if l.serial != "" {
		return l.serial
	}
	for _, c := range l.cols {
		if c.path == fieldDeviceID && c.index < len(fields) {
			return strings.TrimSpace(fields[c.index])
		}
	}
	return ""
}

// reading builds the JSON object of one row, its cells as strings at
// their schema paths, and parses it with p, so that a CSV cell is judged
// exactly like the same value sent over HTTP. The time cell is parsed
// with the guessed layout first, since day/month layouts are not ones the
// parser accepts, and an empty one rejects the row: an import cannot fall
// back on the receive time.
func (l *csvLayout) reading(p *reading.Parser, fields []string) (reading.Reading,
	*reading.FieldError) {
	if len(fields) != len(l.header) {
		return reading.Reading{}, &reading.FieldError{Reason: fmt.Sprintf(
			"row has %d fields, the header has %d", len(fields), len(l.header))}
	}

	cell := strings.TrimSpace(fields[l.time.index])
	if cell == "" || cell == "N/A" {
		return reading.Reading{}, l.timeError("is empty; an imported row needs its time")
	}
	t, err := l.parseTime(cell)
	if err != nil {
		return reading.Reading{}, l.timeError(err.Error())
	}

	obj := map[string]any{fieldTime: t.Format(time.RFC3339Nano)}
	if l.serial != "" {
		obj[fieldDeviceID] = l.serial
	}
	for _, c := range l.cols {
		put(obj, c.path, fields[c.index])
	}
	raw, err := json.Marshal(obj)
	if err != nil {
		return reading.Reading{}, &reading.FieldError{Reason: "encode row: " + err.Error()}
	}

	r, ferr := p.Parse(raw)
	if ferr != nil {
		ferr.Reason = l.withColumn(ferr.Field, ferr.Reason)
	}
	return r, ferr
}

// timeError is a reject of the time cell.
func (l *csvLayout) timeError(reason string) *reading.FieldError {
	return &reading.FieldError{Field: fieldTime,
		Reason: fmt.Sprintf("column %q: %s", l.time.name, reason)}
}

// withColumn prefixes reason with the column of field, when one is mapped.
func (l *csvLayout) withColumn(field, reason string) string {
	for _, c := range l.used() {
		if c.path == field {
			return fmt.Sprintf("column %q: %s", c.name, reason)
		}
	}
	return reason
}

// put sets obj at a dotted path of at most two levels.
func put(obj map[string]any, path string, v string) {
	top, sub, nested := strings.Cut(path, ".")
	if !nested {
		obj[path] = v
		return
	}
	m, _ := obj[top].(map[string]any)
	if m == nil {
		m = make(map[string]any)
		obj[top] = m
	}
	m[sub] = v
}
