package dashboards_test

import (
	"regexp"
	"strings"
)

// fieldRef is a field a panel refers to by name or by a regular expression.
type fieldRef struct {
	where string // which part of the panel, for messages
	name  string
	re    *regexp.Regexp
}

func (r fieldRef) String() string {
	if r.re != nil {
		return "/" + r.re.String() + "/"
	}
	return r.name
}

// matches reports whether the field name is the one referred to.
func (r fieldRef) matches(name string) bool {
	if r.re != nil {
		return r.re.MatchString(name)
	}
	return name == r.name
}

// rawPanel returns the JSON of the panel with the given id.
func (d *dashboard) rawPanel(id int) map[string]any {
	var find func(ps any) map[string]any
	find = func(ps any) map[string]any {
		list, _ := ps.([]any)
		for _, p := range list {
			m, _ := p.(map[string]any)
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

// fieldRefs returns the fields a panel names: override matchers, the stat
// field selection, table sorting, and the fields transformations filter,
// hide or rename. Fields renamed by a transformation and referred to by
// their new name later are not followed; none of ours do that outside
// sortBy transformations, which are skipped.
func fieldRefs(p map[string]any) []fieldRef {
	var out []fieldRef
	fc, _ := p["fieldConfig"].(map[string]any)
	for _, o := range list(fc["overrides"]) {
		m, _ := obj(o)["matcher"].(map[string]any)
		opt, _ := m["options"].(string)
		switch m["id"] {
		case "byName":
			out = append(out, fieldRef{where: "an override", name: opt})
		case "byRegexp":
			out = append(out, fieldRef{where: "an override", re: regexp.MustCompile(opt)})
		}
	}

	opts, _ := p["options"].(map[string]any)
	reduce, _ := opts["reduceOptions"].(map[string]any)
	if f, _ := reduce["fields"].(string); len(f) > 2 && strings.HasPrefix(f, "/") {
		out = append(out, fieldRef{where: "reduceOptions.fields",
			re: regexp.MustCompile(strings.Trim(f, "/"))})
	}
	for _, s := range list(opts["sortBy"]) {
		name, _ := obj(s)["displayName"].(string)
		out = append(out, fieldRef{where: "table sortBy", name: name})
	}

	for _, tr := range list(p["transformations"]) {
		out = append(out, transformationRefs(obj(tr))...)
	}
	return out
}

// transformationRefs returns the fields a filterByValue or organize
// transformation names.
func transformationRefs(tr map[string]any) []fieldRef {
	var out []fieldRef
	opts := obj(tr["options"])
	switch tr["id"] {
	case "filterByValue":
		for _, f := range list(opts["filters"]) {
			name, _ := obj(f)["fieldName"].(string)
			out = append(out, fieldRef{where: "filterByValue", name: name})
		}
	case "organize":
		for _, key := range []string{"excludeByName", "renameByName"} {
			for name := range obj(opts[key]) {
				out = append(out, fieldRef{where: "organize " + key, name: name})
			}
		}
	}
	return out
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

func obj(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}
