package plugin

import (
	"fmt"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
)

// Grafana unit ids of the fields.
const (
	unitBytes   = "bytes"
	unitDBm     = "dBm"
	unitDB      = "dB"
	unitPercent = "percentunit"
	unitMinutes = "m"
	unitSeconds = "s"
)

// dataplane is the frame type version of the data plane contract.
var dataplane = data.FrameTypeVersion{0, 1}

// newMeta returns frame metadata with the frame type and the SQL that
// made the frame, which Grafana's query inspector shows.
func newMeta(typ data.FrameType, sql string) *data.FrameMeta {
	m := &data.FrameMeta{Type: typ, ExecutedQueryString: sql}
	if typ != data.FrameTypeUnknown && typ != data.FrameTypeTable {
		m.TypeVersion = dataplane
	}
	if typ == data.FrameTypeTable {
		m.PreferredVisualization = data.VisTypeTable
	}
	return m
}

// field returns a field with a display name and unit ("" for none).
func field(name, display, unit string, values any) *data.Field {
	f := data.NewField(name, nil, values)
	f.Config = &data.FieldConfig{DisplayNameFromDS: display, Unit: unit}
	return f
}

// truncated adds a warning to the first frame when rows were cut at the
// row limit.
func truncated(frames data.Frames, cut bool, maxRows int) data.Frames {
	if !cut || len(frames) == 0 {
		return frames
	}
	f := frames[0]
	if f.Meta == nil {
		f.Meta = &data.FrameMeta{}
	}
	f.AppendNotices(data.Notice{
		Severity: data.NoticeSeverityWarning,
		Text: fmt.Sprintf("only the first %d rows are shown (the datasource's maxRows); "+
			"narrow the time range or raise maxRows", maxRows),
	})
	return frames
}

// timeField is the time field of a time series.
func timeField(values []time.Time) *data.Field {
	return data.NewField("time", nil, values)
}

// labelName is the name label of a router: its name, or its serial when it
// has none.
func labelName(serial string, name *string) string {
	if name == nil || *name == "" {
		return serial
	}
	return *name
}
