package plugin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// The formats of raw_sql.
const (
	formatTable      = "table"
	formatTimeSeries = "time_series"
)

// rawCursor is the cursor a raw query is read through, so that the server
// stops after maxRows+1 rows however many the query would return.
const rawCursor = "DECLARE routerlogger_raw NO SCROLL CURSOR FOR "

// rawSQLOptions are the options of raw_sql.
type rawSQLOptions struct {
	RawSQL string `json:"rawSql"`
	Format string `json:"format"`
}

func (o *rawSQLOptions) normalize() error {
	o.RawSQL = strings.TrimRight(strings.TrimSpace(o.RawSQL), "; \t\r\n")
	if o.RawSQL == "" {
		return errors.New("rawSql: empty; write one SELECT over the granted views")
	}
	if o.Format == "" {
		o.Format = formatTable
	}
	if o.Format != formatTable && o.Format != formatTimeSeries {
		return fmt.Errorf("format %q: want table or time_series", o.Format)
	}
	return nil
}

var (
	rawSQLDoc = OptionDoc{
		Name: "rawSql", Type: "string",
		Description: "one SELECT over the views granted to routerlogger_reader; macros " +
			"$__timeFilter(col), $__timeGroup(col, $__interval), $__timeFrom(), $__timeTo(), " +
			"$__interval, $__interval_ms",
	}
	rawFormatDoc = OptionDoc{
		Name: "format", Type: "string", Default: formatTable,
		Values: []string{formatTable, formatTimeSeries},
		Description: "table as returned, or time_series: needs a time column; " +
			"text columns become labels",
	}
)

// badQuery marks an error in what the person wrote, as opposed to one of
// the database.
type badQuery struct{ error }

func (e badQuery) Unwrap() error { return e.error }

// runRawSQL answers raw_sql: the query with its macros expanded, run as
// the reader role in a read-only transaction with the statement timeout,
// read through a cursor up to maxRows rows.
func runRawSQL(ctx context.Context, d *Datasource, r request[rawSQLOptions]) (data.Frames, error) {
	timescale, err := d.timescale(ctx)
	if err != nil {
		return nil, err
	}
	sql, err := interpolate(r.DataQuery, r.Opts.RawSQL, timescale)
	if err != nil {
		return nil, badQuery{err}
	}

	var frame *data.Frame
	var cut bool
	err = d.readOnly(ctx, func(ctx context.Context, c *pgx.Conn) error {
		// The extended protocol takes exactly one statement.
		declare := c.PgConn().ExecParams(ctx, rawCursor+sql, nil, nil, nil, nil)
		if _, err := declare.Close(); err != nil {
			return rawError(err)
		}
		fetch := fmt.Sprintf("FETCH FORWARD %d FROM routerlogger_raw", d.settings.MaxRows+1)
		rows, err := c.Query(ctx, fetch, pgx.QueryExecModeDescribeExec)
		if err != nil {
			return err
		}
		frame, cut, err = rowsFrame(rows, d.settings.MaxRows)
		return err
	})
	if err != nil {
		return nil, err
	}

	frame.Name = r.RefID
	if r.Opts.Format == formatTimeSeries {
		if frame, err = toTimeSeries(frame); err != nil {
			return nil, badQuery{err}
		}
	}
	meta := newMeta(data.FrameTypeTable, sql)
	if r.Opts.Format == formatTimeSeries {
		meta = newMeta(data.FrameTypeTimeSeriesWide, sql)
	}
	frame.Meta = meta
	return truncated(data.Frames{frame}, cut, d.settings.MaxRows), nil
}

// rawError points the position of a syntax error at the person's query,
// not at the cursor around it, and says what raw SQL may be.
func rawError(err error) error {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return err
	}
	if pgErr.Position > int32(len(rawCursor)) {
		pgErr.Position -= int32(len(rawCursor))
		pgErr.Message += fmt.Sprintf(" (at character %d)", pgErr.Position)
	}
	// Not a SELECT at all, more than one statement, or a writing CTE.
	notSelect := pgErr.Code == "42601" &&
		(pgErr.Position == 1 || strings.Contains(pgErr.Message, "multiple commands"))
	if notSelect || pgErr.Code == "0A000" {
		pgErr.Message += "; raw SQL must be one SELECT (or WITH ... SELECT, VALUES, TABLE)"
	}
	return pgErr
}

// toTimeSeries sorts a frame by its time column and, when it has text
// columns, turns them into labels of one wide frame.
func toTimeSeries(f *data.Frame) (*data.Frame, error) {
	ti := slices.IndexFunc(f.Fields, func(fl *data.Field) bool {
		return fl.Name == "time" && fl.Type() == data.FieldTypeNullableTime
	})
	if ti < 0 {
		ti = slices.IndexFunc(f.Fields, func(fl *data.Field) bool {
			return fl.Type() == data.FieldTypeNullableTime
		})
	}
	if ti < 0 {
		return nil, errors.New("format time_series needs a time column (timestamptz); " +
			"add one named time, or use format table")
	}

	sorted, err := sortByTime(f, ti)
	if err != nil {
		return nil, err
	}
	if sorted.TimeSeriesSchema().Type != data.TimeSeriesTypeLong {
		return sorted, nil
	}
	wide, err := data.LongToWide(sorted, nil)
	if err != nil {
		return nil, fmt.Errorf("format time_series: %w", err)
	}
	wide.Name = f.Name
	return wide, nil
}

// sortByTime returns f's rows ordered by the time field ti, made not
// nullable. A NULL time is an error.
func sortByTime(f *data.Frame, ti int) (*data.Frame, error) {
	n, _ := f.RowLen()
	order := make([]int, n)
	times := make([]time.Time, n)
	for i := range n {
		t, ok := f.Fields[ti].ConcreteAt(i)
		if !ok {
			return nil, fmt.Errorf("format time_series: column %s is NULL in row %d",
				f.Fields[ti].Name, i+1)
		}
		order[i], times[i] = i, t.(time.Time)
	}
	slices.SortStableFunc(order, func(a, b int) int { return times[a].Compare(times[b]) })

	out := data.NewFrame(f.Name)
	for k, fl := range f.Fields {
		if k == ti {
			sortedTimes := make([]time.Time, n)
			for i, o := range order {
				sortedTimes[i] = times[o]
			}
			out.Fields = append(out.Fields, data.NewField(fl.Name, fl.Labels, sortedTimes))
			continue
		}
		nf := data.NewFieldFromFieldType(fl.Type(), n)
		nf.Name, nf.Labels, nf.Config = fl.Name, fl.Labels, fl.Config
		for i, o := range order {
			nf.Set(i, fl.At(o))
		}
		out.Fields = append(out.Fields, nf)
	}
	return out, nil
}

// timescale reports whether TimescaleDB is installed, asking the database
// once per datasource.
func (d *Datasource) timescale(ctx context.Context) (bool, error) {
	d.tsOnce.Lock()
	defer d.tsOnce.Unlock()
	if d.tsKnown {
		return d.tsValue, nil
	}
	info, err := d.schemaInfo(ctx)
	if err != nil {
		return false, err
	}
	d.tsKnown, d.tsValue = true, info.Timescale
	return d.tsValue, nil
}
