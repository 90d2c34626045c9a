package writer

import (
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/routerlogger/routerlogger/ingest/reading"
	"github.com/routerlogger/routerlogger/ingest/samples"
	"github.com/routerlogger/routerlogger/ingest/usage"
)

// SampleColumns are the samples columns the writer copies, in row order.
// The bench copies rows of this shape to measure the ceiling.
var SampleColumns = sampleColumns

// sampleColumns are the samples columns the writer copies, in row order.
var sampleColumns = []string{
	"router_id", "time", "tx_counter", "rx_counter", "tx_delta", "rx_delta", "uptime_s",
	"rsrp", "rsrq", "sinr", "rssi", "mcc", "mnc", "lac", "tac", "cell_id",
	"operator", "network_type", "wan_ip", "flags", "source", "received_at",
	"tx_base", "tx_pending", "tx_pending_at", "rx_base", "rx_pending", "rx_pending_at",
}

// sampleRow is one samples row being written.
type sampleRow struct {
	routerID int64
	r        *reading.Reading
	job      int // index of the job in the group, for its result
	txDelta  *int64
	rxDelta  *int64
	flags    usage.Flags
	source   reading.Source
	received time.Time
	state    usage.State // usage state after this reading
}

// values returns the row in [sampleColumns] order.
func (s *sampleRow) values() []any {
	r := s.r
	txb, txp, txa := samples.CounterColumns(s.state.Tx)
	rxb, rxp, rxa := samples.CounterColumns(s.state.Rx)
	return []any{
		s.routerID, r.Time, r.TxBytes, r.RxBytes, s.txDelta, s.rxDelta, r.Uptime,
		f32(r.RSRP), f32(r.RSRQ), f32(r.SINR), f32(r.RSSI), text(r.MCC), text(r.MNC),
		r.LAC, r.TAC, r.CellID, text(r.Operator), text(r.NetworkType), inet(r.WANIP),
		int32(s.flags), string(s.source), s.received,
		txb, txp, txa, rxb, rxp, rxa,
	}
}

// RawRow returns reading r as a samples row in [SampleColumns] order, with
// no usage computed: what a collector without usage rules would copy.
func RawRow(routerID int64, r *reading.Reading, src reading.Source, received time.Time) []any {
	row := sampleRow{routerID: routerID, r: r, source: src, received: received}
	return row.values()
}

// usageReading is the part of r the rules look at.
func usageReading(r *reading.Reading) usage.Reading {
	return usage.Reading{Time: r.Time, Uptime: r.Uptime, Tx: r.TxBytes, Rx: r.RxBytes}
}

func f32(v *float64) *float32 {
	if v == nil {
		return nil
	}
	f := float32(*v)
	return &f
}

func text(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func inet(s string) any {
	addr, err := netip.ParseAddr(s)
	if err != nil {
		return nil
	}
	return netip.PrefixFrom(addr, addr.BitLen())
}

func val(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// maxPayload caps the raw input kept with a reject.
const maxPayload = 4096

// capPayload makes raw storable as text: valid UTF-8, no NUL, capped.
func capPayload(raw []byte) *string {
	if len(raw) == 0 {
		return nil
	}
	if len(raw) > maxPayload {
		raw = raw[:maxPayload]
	}
	s := strings.ToValidUTF8(string(raw), "\uFFFD")
	s = strings.ReplaceAll(s, "\x00", "")
	for len(s) > maxPayload {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return &s
}

// hour and day return the UTC buckets of t.
func hour(t time.Time) time.Time { return t.UTC().Truncate(time.Hour) }

func day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
