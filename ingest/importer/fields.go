package importer

import (
	"fmt"
	"io"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Canonical field paths the importer treats specially.
const (
	fieldTime     = "timestamp"
	fieldDeviceID = "device_id"
	fieldTx       = "counters.total_tx_bytes"
	fieldRx       = "counters.total_rx_bytes"
)

// maxMapFile bounds a mapping file; a real one is a few lines.
const maxMapFile = 1 << 20

// field is one reading field a column can be mapped to.
type field struct {
	// path is the dotted path in the reading schema (schema.json).
	path string
	// aliases are the short names accepted by ParseMap besides path.
	aliases []string
	// guesses are further column names that select the field when no
	// mapping is given; path and aliases are guesses too.
	guesses []string
}

// fields lists every mappable field in the order they are reported.
var fields = []field{
	{path: fieldTime, aliases: []string{"time"},
		guesses: []string{"date", "datetime", "date_time", "ts"}},
	{path: fieldDeviceID, aliases: []string{"serial"}, guesses: []string{"serial_number"}},
	{path: fieldTx, aliases: []string{"tx_bytes", "tx"},
		guesses: []string{"sent_bytes", "bytes_sent", "tx_total"}},
	{path: fieldRx, aliases: []string{"rx_bytes", "rx"},
		guesses: []string{"received_bytes", "bytes_received", "rx_total"}},
	{path: "uptime", guesses: []string{"uptime_s", "uptime_seconds"}},
	{path: "cell.rsrp", aliases: []string{"rsrp"}},
	{path: "cell.rsrq", aliases: []string{"rsrq"}},
	{path: "cell.sinr", aliases: []string{"sinr"}, guesses: []string{"snr"}},
	{path: "cell.rssi", aliases: []string{"rssi"}},
	{path: "cell.cid", aliases: []string{"cid"}, guesses: []string{"cell_id", "cellid"}},
	{path: "cell.tac", aliases: []string{"tac"}},
	{path: "cell.lac", aliases: []string{"lac"}},
	{path: "mcc"},
	{path: "mnc"},
	{path: "operator"},
	{path: "network_type"},
	{path: "wan_ip"},
	{path: "name"},
	{path: "model"},
	{path: "imei"},
	{path: "iccid"},
	{path: "fw_version", aliases: []string{"firmware"}},
	{path: "mac"},
	{path: "wlan_mac"},
	{path: "counter_bits"},
}

// fieldByName maps every accepted field name, lower case, to its path.
var fieldByName = func() map[string]string {
	m := make(map[string]string)
	for _, f := range fields {
		m[f.path] = f.path
		for _, a := range f.aliases {
			m[a] = f.path
		}
	}
	return m
}()

// fieldByGuess maps normalised column names to the field they select when
// no mapping is given.
var fieldByGuess = func() map[string]string {
	m := make(map[string]string)
	for _, f := range fields {
		names := append([]string{f.path}, f.aliases...)
		for _, n := range append(names, f.guesses...) {
			m[normalizeColumn(n)] = f.path
		}
	}
	return m
}()

// allowedFields lists the field names for error messages.
func allowedFields() string {
	parts := make([]string, 0, len(fields))
	for _, f := range fields {
		if len(f.aliases) == 0 {
			parts = append(parts, f.path)
			continue
		}
		parts = append(parts, f.path+" ("+strings.Join(f.aliases, ", ")+")")
	}
	return strings.Join(parts, ", ")
}

// canonicalField returns the schema path of a field name or alias.
func canonicalField(name string) (string, error) {
	p, ok := fieldByName[strings.ToLower(strings.TrimSpace(name))]
	if !ok {
		return "", fmt.Errorf("unknown field %q; allowed: %s", name, allowedFields())
	}
	return p, nil
}

// normalizeColumn lower-cases a column name, drops a unit suffix in
// parentheses or brackets ("rsrp(dBm)", "RATE [MBit/s]") and joins words
// with underscores, so that "Sent Bytes" and "sent_bytes" compare equal.
func normalizeColumn(name string) string {
	s := strings.ToLower(strings.TrimSpace(name))
	if i := strings.IndexAny(s, "(["); i > 0 {
		s = strings.TrimSpace(s[:i])
	}
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return r == ' ' || r == '_' || r == '-' || r == '.' || r == '\t'
	}), "_")
}

// canonicalMap returns m with its keys turned into schema paths, checking
// that every field is known, mapped once and to a non-blank column.
func canonicalMap(m map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(m))
	by := make(map[string]string, len(m))
	for name, col := range m {
		p, err := canonicalField(name)
		if err != nil {
			return nil, err
		}
		if strings.TrimSpace(col) == "" {
			return nil, fmt.Errorf("field %s: empty column name", name)
		}
		if prev, dup := by[p]; dup {
			return nil, fmt.Errorf("field %s is mapped twice (as %s and %s)", p, prev, name)
		}
		out[p], by[p] = col, name
	}
	return out, nil
}

// ParseMap parses a column mapping such as
//
//	time=Time,tx_bytes='Sent Bytes',rsrp=rsrp(dBm)
//
// into reading field -> column name. Fields are schema paths
// (counters.total_tx_bytes, cell.rsrp) or their short aliases (tx_bytes,
// rsrp); the keys of the result are always schema paths. Column names may
// be quoted with single or double quotes, which they must be when they
// hold a comma; unquoted names are trimmed. A blank spec gives a nil map.
// Errors name the bad entry; an unknown field lists the allowed ones.
func ParseMap(spec string) (map[string]string, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, nil
	}

	out := make(map[string]string)
	for n, rest := 1, spec; ; n++ {
		entry, name, col, tail, err := nextEntry(rest)
		if err != nil {
			return nil, fmt.Errorf("map entry %d %q: %w", n, strings.TrimSpace(entry), err)
		}
		if err := addEntry(out, name, col); err != nil {
			return nil, fmt.Errorf("map entry %d %q: %w", n, strings.TrimSpace(entry), err)
		}
		if tail == "" {
			return out, nil
		}
		rest = tail[1:] // past the comma
	}
}

// nextEntry splits the first field=column entry off s. tail is empty at
// the end of s, else it starts with the comma that ended the entry.
func nextEntry(s string) (entry, name, col, tail string, err error) {
	eq := strings.IndexByte(s, '=')
	comma := strings.IndexByte(s, ',')
	if eq < 0 || (comma >= 0 && comma < eq) {
		entry, tail = cutAtComma(s)
		if strings.TrimSpace(entry) == "" {
			return entry, "", "", tail, fmt.Errorf("empty entry (a stray comma?)")
		}
		return entry, "", "", tail, fmt.Errorf("want field=column")
	}

	name = strings.TrimSpace(s[:eq])
	value := strings.TrimLeft(s[eq+1:], " \t")
	if value == "" || (value[0] != '\'' && value[0] != '"') {
		col, tail = cutAtComma(value)
		entry = s[:len(s)-len(tail)]
		return entry, name, strings.TrimSpace(col), tail, nil
	}

	end := strings.IndexByte(value[1:], value[0])
	if end < 0 {
		entry, tail = cutAtComma(s)
		return entry, name, "", tail, fmt.Errorf("unterminated %c quote", value[0])
	}
	col = value[1 : end+1]
	after := strings.TrimLeft(value[end+2:], " \t")
	if after != "" && after[0] != ',' {
		entry, tail = cutAtComma(s)
		return entry, name, col, tail, fmt.Errorf("unexpected %q after the closing quote", after)
	}
	return s[:len(s)-len(after)], name, col, after, nil
}

// cutAtComma returns s up to its first comma, and the rest from it.
func cutAtComma(s string) (before, tail string) {
	if i := strings.IndexByte(s, ','); i >= 0 {
		return s[:i], s[i:]
	}
	return s, ""
}

// addEntry adds one parsed entry to m under the field's schema path.
func addEntry(m map[string]string, name, col string) error {
	if name == "" {
		return fmt.Errorf("empty field name")
	}
	if col == "" {
		return fmt.Errorf("empty column name for field %s", name)
	}
	p, err := canonicalField(name)
	if err != nil {
		return err
	}
	if prev, dup := m[p]; dup {
		return fmt.Errorf("field %s is already mapped to column %q", p, prev)
	}
	m[p] = col
	return nil
}

// LoadMapFile reads a mapping file: a YAML or JSON object of field:
// column pairs, with the field names ParseMap accepts. The keys of the
// result are schema paths.
func LoadMapFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("map file: %w", err)
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, maxMapFile+1))
	if err != nil {
		return nil, fmt.Errorf("map file %s: %w", path, err)
	}
	if len(raw) > maxMapFile {
		return nil, fmt.Errorf("map file %s: larger than %d bytes", path, maxMapFile)
	}

	var m map[string]string
	if err := yaml.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("map file %s: want an object of field: column pairs: %w", path, err)
	}
	if len(m) == 0 {
		return nil, fmt.Errorf("map file %s: no field: column pairs", path)
	}
	out, err := canonicalMap(m)
	if err != nil {
		return nil, fmt.Errorf("map file %s: %w", path, err)
	}
	return out, nil
}
