package dashboards_test

import (
	"sort"
	"strconv"
	"strings"

	"github.com/grafana/grafana-plugin-sdk-go/data"
)

// Grafana's default names of a time series' time and value fields.
const (
	seriesTimeName  = "Time"
	seriesValueName = "Value"
)

// panelField is a field as a panel's transformations and options see it.
type panelField struct {
	name    string // the column name, field.name
	display string // what getFieldDisplayName returns, which most matchers compare
	renamed string // config.displayName, set when an organize transformation renames it
	time    bool   // whether it holds times
}

// panelFields returns the fields of frames, the data of one panel, with the
// display names Grafana gives them.
func panelFields(frames data.Frames) []panelField {
	var out []panelField
	for _, f := range frames {
		for _, fl := range f.Fields {
			out = append(out, panelField{name: fl.Name, display: displayName(fl, f, frames),
				time: fl.Type().Time()})
		}
	}
	return out
}

// displayName emulates calculateFieldDisplayName of @grafana/data 11.6 for
// field f of frame, one of the panel's frames: config.displayName, else
// config.displayNameFromDS, else a name made of the frame name (when the
// frames' names differ), the field name and its labels.
func displayName(f *data.Field, frame *data.Frame, frames data.Frames) string {
	if f.Config != nil && f.Config.DisplayName != "" {
		return f.Config.DisplayName
	}
	if f.Config != nil && f.Config.DisplayNameFromDS != "" {
		return f.Config.DisplayNameFromDS
	}
	if f.Type().Time() && f.Labels == nil {
		if f.Name == "" {
			return seriesTimeName
		}
		return f.Name
	}

	name := strings.Join(nameParts(f, frame, frames), " ")
	switch {
	case name == "" && f.Name != "":
		name = f.Name
	case name == "":
		name = seriesValueName
	}
	if name == f.Name {
		name = uniqueName(f, frame)
	}
	return name
}

// nameParts returns the parts calculateFieldDisplayName joins into the
// display name of a field without a configured one.
func nameParts(f *data.Field, frame *data.Frame, frames data.Frames) []string {
	var parts []string
	frameNameAdded, labelsAdded := false, false
	if frameNamesDiffer(frames) && frame.Name != "" {
		parts = append(parts, frame.Name)
		frameNameAdded = true
	}
	if f.Name != "" && f.Name != seriesValueName {
		parts = append(parts, f.Name)
	}
	if f.Labels != nil {
		single := singleLabelName(frames)
		if single == "" {
			if l := formatLabels(f.Labels); l != "" {
				parts = append(parts, l)
				labelsAdded = true
			}
		} else if v := f.Labels[single]; v != "" {
			parts = append(parts, v)
			labelsAdded = true
		}
	}
	if !frameNameAdded && !labelsAdded && f.Name == seriesValueName && frame.Name != "" {
		parts = append(parts, frame.Name)
	}
	return parts
}

// frameNamesDiffer reports whether two consecutive frames have different names.
func frameNamesDiffer(frames data.Frames) bool {
	for i := 1; i < len(frames); i++ {
		if frames[i].Name != frames[i-1].Name {
			return true
		}
	}
	return false
}

// singleLabelName returns the one label key every labelled field of the
// frames uses, or "" when they use several (or none).
func singleLabelName(frames data.Frames) string {
	single := ""
	for _, f := range frames {
		for _, fl := range f.Fields {
			for key := range fl.Labels {
				if single == "" {
					single = key
				} else if key != single {
					return ""
				}
			}
		}
	}
	return single
}

// formatLabels writes labels as Grafana does: {a="1", b="2"}, keys sorted.
func formatLabels(labels data.Labels) string {
	if len(labels) == 0 {
		return ""
	}
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	pairs := make([]string, len(keys))
	for i, k := range keys {
		pairs[i] = k + `="` + labels[k] + `"`
	}
	return "{" + strings.Join(pairs, ", ") + "}"
}

// uniqueName is getUniqueFieldName: the field's name, numbered when other
// fields of its frame have the same name.
func uniqueName(f *data.Field, frame *data.Frame) string {
	dupes, foundSelf := 0, false
	for _, other := range frame.Fields {
		if other == f {
			foundSelf = true
			if dupes > 0 {
				dupes++
				break
			}
			continue
		}
		if other.Name == f.Name {
			dupes++
			if foundSelf {
				break
			}
		}
	}
	if dupes == 0 {
		return f.Name
	}
	return f.Name + " " + strconv.Itoa(dupes)
}
