package plugin

import (
	"context"
	"fmt"
	"strconv"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/jackc/pgx/v5"
)

// column is how a table query names and shows one result column.
type column struct {
	name, display, unit string
}

// selectTable runs sql in a read-only transaction and returns its rows as
// one table frame named frameName, whose fields are cols in order: the
// names, display names and units of the SQL's columns. Every field is
// nullable; more than maxRows rows are cut with a warning.
func selectTable(ctx context.Context, d *Datasource, frameName, sql string, args []any,
	cols []column) (data.Frames, error) {
	var (
		frame *data.Frame
		cut   bool
	)
	err := d.readOnly(ctx, func(ctx context.Context, c *pgx.Conn) error {
		rows, err := c.Query(ctx, sql+" LIMIT "+strconv.Itoa(d.settings.MaxRows+1), args...)
		if err != nil {
			return err
		}
		frame, cut, err = rowsFrame(rows, d.settings.MaxRows)
		return err
	})
	if err != nil {
		return nil, err
	}

	if len(frame.Fields) != len(cols) {
		return nil, fmt.Errorf("%s: %d columns, %d described", frameName, len(frame.Fields), len(cols))
	}
	for i, c := range cols {
		frame.Fields[i].Name = c.name
		frame.Fields[i].Config = &data.FieldConfig{DisplayNameFromDS: c.display, Unit: c.unit}
	}
	frame.Name = frameName
	frame.SetMeta(newMeta(data.FrameTypeTable, sql))
	return truncated(data.Frames{frame}, cut, d.settings.MaxRows), nil
}

// labelled is one row of a numeric long alert frame: label values in the
// order of the frame's label fields, and the number.
type labelled[T any] struct {
	labels []string
	value  T
}

// longFrame is a numeric long frame of string label fields and one value
// field, which Grafana alerting turns into one number per row labelled by
// the label fields.
func longFrame[T any](frame, sql string, labels []column, value column,
	rows []labelled[T]) *data.Frame {
	f := data.NewFrame(frame)
	for i, l := range labels {
		vals := make([]string, len(rows))
		for j, r := range rows {
			vals[j] = r.labels[i]
		}
		f.Fields = append(f.Fields, field(l.name, l.display, l.unit, vals))
	}
	vals := make([]T, len(rows))
	for j, r := range rows {
		vals[j] = r.value
	}
	f.Fields = append(f.Fields, field(value.name, value.display, value.unit, vals))
	return f.SetMeta(newMeta(data.FrameTypeNumericLong, sql))
}
