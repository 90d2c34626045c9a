package dashboards_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
)

// TestFieldRefs_DisplayName checks the emulation of Grafana's display
// names on the kinds of frames the plugin and raw SQL queries return.
func TestFieldRefs_DisplayName(t *testing.T) {
	withConfig := func(f *data.Field, c data.FieldConfig) *data.Field {
		f.Config = &c
		return f
	}
	series := func(name string, labels data.Labels) *data.Field {
		return data.NewField(name, labels, []float64{1})
	}

	tests := []struct {
		name   string
		frames data.Frames
		want   []string // display names of all fields, frame by frame
	}{
		{"displayNameFromDS wins over the name", data.Frames{data.NewFrame("router_status",
			withConfig(series("online", nil), data.FieldConfig{DisplayNameFromDS: "Online"}),
			series("serial", nil))},
			[]string{"Online", "serial"}},
		{"config displayName wins over displayNameFromDS", data.Frames{data.NewFrame("",
			withConfig(series("a", nil), data.FieldConfig{DisplayName: "X", DisplayNameFromDS: "Y"}))},
			[]string{"X"}},
		{"time fields keep their name", data.Frames{data.NewFrame("",
			data.NewField("time", nil, []time.Time{{}}), data.NewField("", nil, []time.Time{{}}))},
			[]string{"time", "Time"}},
		{"one label key adds its value", data.Frames{data.NewFrame("A",
			series("total", data.Labels{"serial": "1"}), series("total", data.Labels{"serial": "2"}))},
			[]string{"total 1", "total 2"}},
		{"several label keys add all labels", data.Frames{data.NewFrame("A",
			series("total", data.Labels{"serial": "1", "name": "r1"}),
			series("total", data.Labels{"serial": "2"}))},
			[]string{`total {name="r1", serial="1"}`, `total {serial="2"}`}},
		{"differing frame names prefix the field", data.Frames{
			data.NewFrame("A", series("Value", nil)), data.NewFrame("B", series("x", nil))},
			[]string{"A", "B x"}},
		{"duplicate names are numbered", data.Frames{data.NewFrame("",
			series("x", nil), series("x", nil), series("y", nil))},
			[]string{"x 1", "x 2", "y"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, f := range panelFields(tt.frames) {
				got = append(got, f.display)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("display names %q, want %q", got, tt.want)
			}
		})
	}
}

// TestFieldRefs_Unmatched checks which references a panel may make to the
// fields of a router_status frame: column names only where Grafana also
// compares them, display names everywhere else, and names as
// transformations leave them.
func TestFieldRefs_Unmatched(t *testing.T) {
	fields := []panelField{
		{name: "serial", display: "Serial"},
		{name: "online", display: "Online"},
		{name: "last_seen", display: "Last seen"},
	}

	tests := []struct {
		name  string
		panel string // panel JSON
		want  []string
	}{
		{"filterByValue wants the display name",
			`{"transformations": [` + filter("online") + `,` + filter("Online") + `]}`,
			[]string{`transformation 0 (filterByValue) refers to field "online"`}},
		{"a stat field selection wants the display name",
			`{"options": {"reduceOptions": {"fields": "/^serial$/"}}}`,
			[]string{`reduceOptions.fields refers to field pattern /^serial$/`}},
		{"a stat field selection may be a plain name",
			`{"options": {"reduceOptions": {"fields": "Serial"}}}`, nil},
		{"byName overrides accept either name",
			`{"fieldConfig": {"overrides": [` + override("byName", "serial") + `,` +
				override("byName", "Online") + `]}}`, nil},
		{"byRegexp overrides want the display name",
			`{"fieldConfig": {"overrides": [` + override("byRegexp", "^(serial|online)$") + `,` +
				override("byRegexp", "^(Serial|Online)$") + `]}}`,
			[]string{`an override matcher byRegexp refers to field pattern ^(serial|online)$`}},
		{"excluded fields are gone",
			`{"transformations": [{"id": "organize", "options": {"excludeByName": {"online": true}}},` +
				filter("Online") + `]}`,
			[]string{`transformation 1 (filterByValue) refers to field "Online"`}},
		{"renames want the display name and rename it",
			`{"transformations": [{"id": "organize", "options": {"renameByName":
				{"last_seen": "x", "Last seen": "Seen"}}}],
			"options": {"sortBy": [{"displayName": "Seen"}, {"displayName": "Last seen"}]}}`,
			[]string{`transformation 0 (organize) renameByName refers to field "last_seen"`,
				`table sortBy refers to field "Last seen"`}},
		{"data links want the column name",
			`{"fieldConfig": {"defaults": {"links": [{"url": "/d/x?r=${__data.fields.serial}"},
				{"url": "/d/x?r=${__data.fields[\"Serial\"]}"}]}}}`,
			[]string{`a data link refers to field "Serial"`}},
		{"unknown transformations are reported",
			`{"transformations": [{"id": "reduce", "options": {}}]}`,
			[]string{`transformation 0 (reduce) is not modelled`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p map[string]any
			if err := json.Unmarshal([]byte(tt.panel), &p); err != nil {
				t.Fatalf("panel JSON: %v", err)
			}

			got := unmatchedRefs(p, fields)
			if len(got) != len(tt.want) {
				t.Fatalf("problems %q, want %d starting %q", got, len(tt.want), tt.want)
			}
			for i, want := range tt.want {
				if !strings.HasPrefix(got[i], want) {
					t.Errorf("problem %d is %q, want it to start %q", i, got[i], want)
				}
			}
		})
	}
}

// filter is a filterByValue transformation on the field named name.
func filter(name string) string {
	return `{"id": "filterByValue", "options": {"filters": [{"fieldName": "` + name +
		`", "config": {"id": "equal", "options": {"value": true}}}]}}`
}

// override is a field override with the given matcher and no properties.
func override(matcher, options string) string {
	return `{"matcher": {"id": "` + matcher + `", "options": "` + options + `"}, "properties": []}`
}
