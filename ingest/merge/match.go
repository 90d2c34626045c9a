package merge

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/routerlogger/routerlogger/internal/mac"
)

// The identifiers two rows of one device may share, strongest first.
const (
	ByIMEI   = "imei"
	BySerial = "serial"
	ByLANMAC = "lan_mac"
)

// Router is what the merge looks at of a routers row.
type Router struct {
	ID     int64
	Serial string
	Name   string
	IMEI   string
	LANMAC string
	// Samples is the router's number of samples (FindDuplicates only).
	Samples int64
}

// Pair is a duplicate found by [Merger.FindDuplicates]: Keep is the row
// with more samples (the lower id on a tie), so the merge moves less.
type Pair struct {
	Keep, Dup Router
	// MatchedBy is ByIMEI, BySerial or ByLANMAC; Value the shared value.
	MatchedBy, Value string
}

// key is one identifier of a router in comparable form.
type key struct{ by, value string }

// keys returns the identifiers of r, strongest first. Names are never an
// identifier: two sites may well call their routers "Reception".
func keys(r Router) []key {
	var out []key
	if v := imeiKey(r.IMEI); v != "" {
		out = append(out, key{ByIMEI, v})
	}
	if v := serialKey(r.Serial); v != "" {
		out = append(out, key{BySerial, v})
	}
	if v := macKey(r.LANMAC); v != "" {
		out = append(out, key{ByLANMAC, v})
	}
	// A router that sent its MAC as device_id: only a MAC-spelled serial
	// counts, since a 12-digit serial would parse as a MAC by chance.
	if strings.ContainsAny(r.Serial, ":-.") {
		if v := macKey(r.Serial); v != "" {
			out = append(out, key{ByLANMAC, v})
		}
	}
	return out
}

// imeiKey returns the digits of an IMEI, or "" when it is no plausible
// IMEI (14 to 16 digits, not all zero).
func imeiKey(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c >= '0' && c <= '9' {
			b.WriteRune(c)
		}
	}
	d := b.String()
	if len(d) < 14 || len(d) > 16 || strings.Trim(d, "0") == "" {
		return ""
	}
	return d
}

// serialKey returns a serial upper-cased without separators and spaces.
func serialKey(s string) string {
	var b strings.Builder
	for _, c := range strings.ToUpper(s) {
		if c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' {
			b.WriteRune(c)
		}
	}
	if b.Len() < 4 {
		return ""
	}
	return b.String()
}

// macKey returns the canonical MAC, or "" for no MAC or a placeholder.
func macKey(s string) string {
	m, err := mac.Parse(s)
	if err != nil || m == "00:00:00:00:00:00" || m == "FF:FF:FF:FF:FF:FF" {
		return ""
	}
	return m
}

// Match returns the strongest identifier a and b share. ok is false when
// they share none, whatever their names.
func Match(a, b Router) (by, value string, ok bool) {
	kb := keys(b)
	for _, ka := range keys(a) {
		if slices.Contains(kb, ka) {
			return ka.by, ka.value, true
		}
	}
	return "", "", false
}

// FindDuplicates returns the pairs of routers rows that share an IMEI,
// serial or LAN MAC, strongest match first. A device under three rows
// gives two pairs with the same keeper.
func (m *Merger) FindDuplicates(ctx context.Context) ([]Pair, error) {
	const q = `SELECT id, serial, coalesce(name, ''), coalesce(imei, ''), coalesce(lan_mac, '')
		FROM routers ORDER BY id`
	rows, _ := m.pool.Query(ctx, q)
	routers, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Router, error) {
		var r Router
		err := row.Scan(&r.ID, &r.Serial, &r.Name, &r.IMEI, &r.LANMAC)
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("merge: read routers: %w", err)
	}

	groups := map[key][]int{}
	for i, r := range routers {
		for _, k := range keys(r) {
			groups[k] = append(groups[k], i)
		}
	}
	pairs := pairsOf(routers, groups)
	if err := m.countSamples(ctx, pairs); err != nil {
		return nil, err
	}
	for i := range pairs {
		p := &pairs[i]
		if p.Dup.Samples > p.Keep.Samples {
			p.Keep, p.Dup = p.Dup, p.Keep
		}
	}
	return pairs, nil
}

// pairsOf turns groups of rows sharing a key into pairs, each pair once
// with its strongest key. The first row of a group stands for the group.
func pairsOf(routers []Router, groups map[key][]int) []Pair {
	rank := map[string]int{ByIMEI: 0, BySerial: 1, ByLANMAC: 2}
	best := map[[2]int]key{}
	for k, idx := range groups {
		for _, j := range idx[1:] {
			pk := [2]int{idx[0], j}
			if old, ok := best[pk]; !ok || rank[k.by] < rank[old.by] ||
				rank[k.by] == rank[old.by] && k.value < old.value {
				best[pk] = k
			}
		}
	}

	out := make([]Pair, 0, len(best))
	for pk, k := range best {
		out = append(out, Pair{Keep: routers[pk[0]], Dup: routers[pk[1]], MatchedBy: k.by, Value: k.value})
	}
	slices.SortFunc(out, func(a, b Pair) int {
		return cmp.Or(cmp.Compare(rank[a.MatchedBy], rank[b.MatchedBy]),
			cmp.Compare(a.Keep.ID, b.Keep.ID), cmp.Compare(a.Dup.ID, b.Dup.ID))
	})
	return out
}

// countSamples fills the sample counts of the routers in pairs.
func (m *Merger) countSamples(ctx context.Context, pairs []Pair) error {
	const q = "SELECT count(*) FROM samples WHERE router_id = $1"
	counts := map[int64]int64{}
	for i := range pairs {
		for _, r := range []*Router{&pairs[i].Keep, &pairs[i].Dup} {
			n, ok := counts[r.ID]
			if !ok {
				if err := m.pool.QueryRow(ctx, q, r.ID).Scan(&n); err != nil {
					return fmt.Errorf("merge: count samples: %w", err)
				}
				counts[r.ID] = n
			}
			r.Samples = n
		}
	}
	return nil
}
