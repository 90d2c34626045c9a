package dashboards_test

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// refKind is what Grafana compares a field reference with.
type refKind int

const (
	// byDisplay compares the display name only (byRegexp matchers, stat
	// field selections, filterByValue, organize renames and order, sortBy).
	byDisplay refKind = iota
	// byNameOrDisplay accepts the column name or the display name (byName
	// and byNames matchers, organize excludeByName, calculateField include).
	byNameOrDisplay
	// byDataLinkKey is ${__data.fields.X}: the column name or a name set
	// by a rename, never displayNameFromDS.
	byDataLinkKey
)

// fieldRef is a field a panel refers to by name or by a regular expression.
type fieldRef struct {
	where string // which part of the panel, for messages
	kind  refKind
	name  string         // the exact name, or the pattern as the dashboard writes it
	re    *regexp.Regexp // nil for an exact name
}

func (r fieldRef) String() string {
	if r.re != nil {
		return "pattern " + r.name
	}
	return fmt.Sprintf("%q", r.name)
}

// matches reports whether f is the field referred to, comparing what
// Grafana compares for this kind of reference.
func (r fieldRef) matches(f panelField) bool {
	var candidates []string
	switch r.kind {
	case byDisplay:
		candidates = []string{f.display}
	case byNameOrDisplay:
		candidates = []string{f.name, f.display}
	case byDataLinkKey:
		candidates = []string{f.name, f.renamed}
	}
	for _, c := range candidates {
		if r.re != nil && r.re.MatchString(c) || r.re == nil && c == r.name && c != "" {
			return true
		}
	}
	return false
}

// nameRef is a reference by exact name.
func nameRef(where string, kind refKind, name string) fieldRef {
	return fieldRef{where: where, kind: kind, name: name}
}

// patternRef is a reference by a Grafana field name pattern, which
// stringToJsRegex reads: /re/flags, or else a name matched whole.
func patternRef(where, pattern string) (fieldRef, error) {
	expr := "^" + pattern + "$"
	if strings.HasPrefix(pattern, "/") {
		m := regexp.MustCompile(`^/(.*?)/([gimys]*)$`).FindStringSubmatch(pattern)
		if m == nil {
			return fieldRef{}, fmt.Errorf("%s: %q is not a valid regular expression", where, pattern)
		}
		expr = m[1]
		if strings.Contains(m[2], "i") {
			expr = "(?i)" + expr
		}
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return fieldRef{}, fmt.Errorf("%s: pattern %q: %w", where, pattern, err)
	}
	return fieldRef{where: where, kind: byDisplay, name: pattern, re: re}, nil
}

// rawPanel returns the JSON of the panel with the given id.
func (d *dashboard) rawPanel(id int) map[string]any {
	var find func(ps any) map[string]any
	find = func(ps any) map[string]any {
		for _, p := range list(ps) {
			m := obj(p)
			if n, _ := m["id"].(float64); int(n) == id {
				return m
			}
			if sub := find(m["panels"]); sub != nil {
				return sub
			}
		}
		return nil
	}
	return find(d.raw["panels"])
}

// unmatchedRefs follows the panel's transformations over fields, the fields
// of the frames its targets answer, the way Grafana applies them, and
// returns a problem for each field reference that matches no field: in a
// transformation, against the fields it receives; in an override, a data
// link, the stat field selection or table sorting, against the fields the
// last transformation leaves.
func unmatchedRefs(p map[string]any, fields []panelField) []string {
	var problems []string
	check := func(refs []fieldRef, err error) {
		if err != nil {
			problems = append(problems, err.Error())
		}
		for _, r := range refs {
			if !slices.ContainsFunc(fields, r.matches) {
				problems = append(problems, fmt.Sprintf("%s refers to field %s, which no field "+
					"matches (%s)", r.where, r, describeFields(fields)))
			}
		}
	}

	for i, tr := range list(p["transformations"]) {
		step, err := transformationStep(obj(tr), i)
		check(step.refs, err)
		if step.apply != nil {
			fields = step.apply(fields)
		}
	}
	check(optionRefs(p))
	return problems
}

// describeFields lists the fields' names and display names, for messages.
func describeFields(fields []panelField) string {
	parts := make([]string, len(fields))
	for i, f := range fields {
		parts[i] = fmt.Sprintf("%s shown as %q", f.name, f.display)
	}
	return "fields: " + strings.Join(parts, ", ")
}

// optionRefs returns the fields a panel names outside transformations:
// override matchers, data links, the stat field selection and table sorting.
func optionRefs(p map[string]any) ([]fieldRef, error) {
	var out []fieldRef
	var errs []error
	fc := obj(p["fieldConfig"])
	for _, o := range list(fc["overrides"]) {
		refs, err := matcherRefs(obj(obj(o)["matcher"]))
		out = append(out, refs...)
		errs = append(errs, err)
	}
	for _, key := range dataLinkKeys(fc) {
		out = append(out, nameRef("a data link", byDataLinkKey, key))
	}

	opts := obj(p["options"])
	if f, _ := obj(opts["reduceOptions"])["fields"].(string); f != "" {
		ref, err := patternRef("reduceOptions.fields", f)
		out = append(out, ref)
		errs = append(errs, err)
	}
	for _, s := range list(opts["sortBy"]) {
		name, _ := obj(s)["displayName"].(string)
		out = append(out, nameRef("table sortBy", byDisplay, name))
	}
	return out, firstErr(errs)
}

// matcherRefs returns the fields an override matcher names.
func matcherRefs(m map[string]any) ([]fieldRef, error) {
	where := fmt.Sprintf("an override matcher %v", m["id"])
	switch m["id"] {
	case "byName":
		name, _ := m["options"].(string)
		return []fieldRef{nameRef(where, byNameOrDisplay, name)}, nil
	case "byNames":
		return namesRefs(where, byNameOrDisplay, list(obj(m["options"])["names"])), nil
	case "byRegexp":
		pattern, _ := m["options"].(string)
		ref, err := patternRef(where, pattern)
		return []fieldRef{ref}, err
	}
	return nil, nil
}

func namesRefs(where string, kind refKind, names []any) []fieldRef {
	var out []fieldRef
	for _, n := range names {
		name, _ := n.(string)
		out = append(out, nameRef(where, kind, name))
	}
	return out
}

// dataLinkField finds ${__data.fields.X} and ${__data.fields["X"]}.
var dataLinkField = regexp.MustCompile(
	`\$\{__data\.fields(?:\.([A-Za-z_]\w*)|\[\s*"([^"]+)"\s*\])`)

// dataLinkKeys returns the field names the data links in v refer to.
func dataLinkKeys(v any) []string {
	var out []string
	switch v := v.(type) {
	case string:
		for _, m := range dataLinkField.FindAllStringSubmatch(v, -1) {
			out = append(out, m[1]+m[2])
		}
	case []any:
		for _, e := range v {
			out = append(out, dataLinkKeys(e)...)
		}
	case map[string]any:
		for _, e := range v {
			out = append(out, dataLinkKeys(e)...)
		}
	}
	return out
}

// step is one transformation: the fields it names and what it does to the
// fields it passes on (nil for nothing this test follows).
type step struct {
	refs  []fieldRef
	apply func([]panelField) []panelField
}

// transformationStep models transformation number i. A transformation the
// test does not know is an error, so that a new one is modelled before its
// field references go unchecked.
func transformationStep(tr map[string]any, i int) (step, error) {
	opts := obj(tr["options"])
	where := fmt.Sprintf("transformation %d (%v)", i, tr["id"])
	switch tr["id"] {
	case "filterByValue":
		var refs []fieldRef
		for _, f := range list(opts["filters"]) {
			name, _ := obj(f)["fieldName"].(string)
			refs = append(refs, nameRef(where, byDisplay, name))
		}
		return step{refs: refs}, nil
	case "organize":
		return organizeStep(where, opts), nil
	case "sortBy":
		var refs []fieldRef
		for _, s := range list(opts["sort"]) {
			name, _ := obj(s)["field"].(string)
			refs = append(refs, nameRef(where, byDisplay, name))
		}
		return step{refs: refs}, nil
	case "joinByField":
		if by, _ := opts["byField"].(string); by != "" {
			return step{refs: []fieldRef{nameRef(where, byNameOrDisplay, by)}}, nil
		}
		return step{}, nil
	case "calculateField":
		return calculateFieldStep(where, opts)
	}
	return step{}, fmt.Errorf("%s is not modelled by this test: teach transformationStep "+
		"which fields it names and how it changes them", where)
}

// organizeStep models organize: it drops the excluded fields (matched by
// name or display name), then renames fields by display name, setting
// config.displayName. indexByName compares display names.
func organizeStep(where string, opts map[string]any) step {
	var refs []fieldRef
	exclude := obj(opts["excludeByName"])
	for _, name := range slices.Sorted(maps.Keys(exclude)) {
		if exclude[name] == true {
			refs = append(refs, nameRef(where+" excludeByName", byNameOrDisplay, name))
		}
	}
	rename := obj(opts["renameByName"])
	for _, name := range slices.Sorted(maps.Keys(rename)) {
		refs = append(refs, nameRef(where+" renameByName", byDisplay, name))
	}
	for _, name := range slices.Sorted(maps.Keys(obj(opts["indexByName"]))) {
		refs = append(refs, nameRef(where+" indexByName", byDisplay, name))
	}

	apply := func(fields []panelField) []panelField {
		var out []panelField
		for _, f := range fields {
			if exclude[f.name] == true || exclude[f.display] == true {
				continue
			}
			if to, _ := rename[f.display].(string); to != "" {
				f.display, f.renamed = to, to
			}
			out = append(out, f)
		}
		return out
	}
	return step{refs: refs, apply: apply}
}

// calculateFieldStep models calculateField in reduceRow mode: it adds a
// field named by its alias, replacing all but the time fields when
// replaceFields is set.
func calculateFieldStep(where string, opts map[string]any) (step, error) {
	if mode, _ := opts["mode"].(string); mode != "" && mode != "reduceRow" {
		return step{}, fmt.Errorf("%s: mode %q is not modelled by this test", where, mode)
	}
	reduce := obj(opts["reduce"])
	refs := namesRefs(where+" include", byNameOrDisplay, list(reduce["include"]))
	alias, _ := opts["alias"].(string)
	if alias == "" {
		return step{}, fmt.Errorf("%s has no alias; give the calculated field a name", where)
	}
	replace := opts["replaceFields"] == true

	apply := func(fields []panelField) []panelField {
		var out []panelField
		for _, f := range fields {
			if !replace || f.time {
				out = append(out, f)
			}
		}
		return append(out, panelField{name: alias, display: alias})
	}
	return step{refs: refs, apply: apply}, nil
}

func firstErr(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

func obj(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}
