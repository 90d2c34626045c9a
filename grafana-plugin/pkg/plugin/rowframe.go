package plugin

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"net/netip"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// columnKind is how a result column becomes a frame field.
type columnKind int

const (
	kindText columnKind = iota
	kindBool
	kindInt
	kindFloat
	kindTime
)

// columnKinds maps PostgreSQL type OIDs to field kinds; anything else is
// written as text.
var columnKinds = map[uint32]columnKind{
	pgtype.BoolOID:        kindBool,
	pgtype.Int2OID:        kindInt,
	pgtype.Int4OID:        kindInt,
	pgtype.Int8OID:        kindInt,
	pgtype.OIDOID:         kindInt,
	pgtype.Float4OID:      kindFloat,
	pgtype.Float8OID:      kindFloat,
	pgtype.NumericOID:     kindFloat,
	pgtype.TimestamptzOID: kindTime,
	pgtype.TimestampOID:   kindTime,
	pgtype.DateOID:        kindTime,
}

// rowsFrame reads up to maxRows rows into a frame of nullable fields, one
// per column, and reports whether more rows were there.
func rowsFrame(rows pgx.Rows, maxRows int) (*data.Frame, bool, error) {
	defer rows.Close()

	descs := rows.FieldDescriptions()
	kinds := make([]columnKind, len(descs))
	frame := data.NewFrame("")
	for i, fd := range descs {
		kinds[i] = columnKinds[fd.DataTypeOID]
		frame.Fields = append(frame.Fields, newColumnField(fd.Name, kinds[i]))
	}

	cut := false
	for rows.Next() {
		if frame.Rows() == maxRows {
			cut = true
			break
		}
		vals, err := rows.Values()
		if err != nil {
			return nil, false, err
		}
		for i, v := range vals {
			frame.Fields[i].Append(convert(kinds[i], v))
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	return frame, cut, nil
}

func newColumnField(name string, k columnKind) *data.Field {
	switch k {
	case kindBool:
		return data.NewField(name, nil, []*bool{})
	case kindInt:
		return data.NewField(name, nil, []*int64{})
	case kindFloat:
		return data.NewField(name, nil, []*float64{})
	case kindTime:
		return data.NewField(name, nil, []*time.Time{})
	}
	return data.NewField(name, nil, []*string{})
}

// convert turns a value pgx decoded into the field's pointer type; NULL
// becomes nil.
func convert(k columnKind, v any) any {
	switch k {
	case kindBool:
		b, ok := v.(bool)
		return ptrIf(b, ok)
	case kindInt:
		return toInt(v)
	case kindFloat:
		return toFloat(v)
	case kindTime:
		t, ok := v.(time.Time)
		return ptrIf(t.UTC(), ok)
	}
	if v == nil {
		return (*string)(nil)
	}
	s := text(v)
	return &s
}

func ptrIf[T any](v T, ok bool) *T {
	if !ok {
		return nil
	}
	return &v
}

func toInt(v any) *int64 {
	var n int64
	switch x := v.(type) {
	case int16:
		n = int64(x)
	case int32:
		n = int64(x)
	case int64:
		n = x
	case uint32:
		n = int64(x)
	default:
		return nil
	}
	return &n
}

func toFloat(v any) *float64 {
	var f float64
	switch x := v.(type) {
	case float32:
		f = float64(x)
	case float64:
		f = x
	case pgtype.Numeric:
		fv, err := x.Float64Value()
		if err != nil || !fv.Valid {
			return nil
		}
		f = fv.Float64
	default:
		return nil
	}
	return &f
}

// text writes a value of any other type as text: addresses without a /32,
// UUIDs in their usual form, driver values and Stringers as they say, and
// arrays and objects as JSON.
func text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case netip.Prefix:
		if x.IsSingleIP() {
			return x.Addr().String()
		}
		return x.String()
	case [16]byte:
		return fmt.Sprintf("%x-%x-%x-%x-%x", x[0:4], x[4:6], x[6:8], x[8:10], x[10:16])
	case []byte:
		return fmt.Sprintf("\\x%x", x)
	case driver.Valuer:
		if dv, err := x.Value(); err == nil {
			if s, ok := dv.(string); ok {
				return s
			}
		}
	case fmt.Stringer:
		return x.String()
	}
	if b, err := json.Marshal(v); err == nil {
		return string(b)
	}
	return fmt.Sprint(v)
}
