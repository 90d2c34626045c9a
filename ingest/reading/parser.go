package reading

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"time"

	"github.com/routerlogger/routerlogger/internal/mac"
	"github.com/routerlogger/routerlogger/internal/timeparse"
)

// DefaultMaxFuture is how far after the receive time a timestamp may lie
// when [Parser.MaxFuture] is zero.
const DefaultMaxFuture = 10 * time.Minute

// Valid radio ranges; a value outside them is stored as unknown. schema.json
// states the same ranges (a test keeps them equal).
//
//   - RSRP, dBm: -156 to -31, the extended RSRP report range of 3GPP TS
//     36.133 (RSRP_-17 .. RSRP_113, -156 dBm to -31 dBm). A detached modem
//     reports 0, which is outside it.
//   - RSRQ, dB: -43 to 20, the extended RSRQ range of TS 36.133
//     (RSRQ_-30 .. RSRQ_46); the normal range is -34 to 2.5. Modems that
//     lost the cell report values such as -125.
//   - SINR, dB: -30 to 50. TS 38.133 reports SS-SINR from -23 to 40 dB;
//     LTE SINR is vendor-defined and modems report a little beyond, so the
//     window is wider than the 3GPP one.
//   - RSSI, dBm: -130 to -20 (the GSM RXLEV range is -110 to -48, LTE
//     E-UTRA carrier RSSI is wider; 0 and positive values are "no signal").
const (
	rsrpMin, rsrpMax = -156, -31
	rsrqMin, rsrqMax = -43, 20
	sinrMin, sinrMax = -30, 50
	rssiMin, rssiMax = -130, -20
)

// Parser turns router JSON into validated readings. The zero value is
// ready to use; a Parser is safe for concurrent use as long as its fields
// are not changed.
type Parser struct {
	// Now returns the receive time, used for readings without a timestamp
	// and for the future bound; nil means time.Now.
	Now func() time.Time
	// MaxFuture is how far after Now a timestamp may lie before the
	// reading is rejected; zero or negative means DefaultMaxFuture.
	MaxFuture time.Duration
	// MinTime, when not zero, rejects readings timestamped before it (a
	// router without NTP reports 1970 or its firmware build date).
	MinTime time.Time
	// MaxAge, when positive, rejects readings timestamped more than MaxAge
	// before Now: the past bound of a long-running server. It is off by
	// default because routers replay buffered history.
	MaxAge time.Duration

	// skipSchema turns JSON Schema validation off; only the benchmark
	// that measures the schema's cost sets it.
	skipSchema bool
}

// Parse parses one JSON object into a reading. The returned FieldError
// has Index 0.
func (p *Parser) Parse(raw []byte) (Reading, *FieldError) {
	v, err := decodeValue(raw)
	if err != nil {
		return Reading{}, &FieldError{Reason: err.Error()}
	}
	return p.parseValue(v, p.now())
}

// now returns the receive time in UTC.
func (p *Parser) now() time.Time {
	if p.Now == nil {
		return time.Now().UTC()
	}
	return p.Now().UTC()
}

// maxFuture returns the effective future bound.
func (p *Parser) maxFuture() time.Duration {
	if p.MaxFuture <= 0 {
		return DefaultMaxFuture
	}
	return p.MaxFuture
}

// parseValue turns one decoded JSON value into a reading: the Go rules
// first, which give the specific reasons, then the schema over what they
// kept, which is the contract.
func (p *Parser) parseValue(v any, now time.Time) (Reading, *FieldError) {
	obj, ok := v.(map[string]any)
	if !ok {
		return Reading{}, fieldError("", "want a JSON object, got %s", jsonType(v))
	}

	b := builder{obj: obj}
	if ferr := b.build(p, now); ferr != nil {
		return Reading{}, ferr
	}

	if !p.skipSchema {
		if ferr := b.validate(); ferr != nil {
			return Reading{}, ferr
		}
	}
	return b.r, nil
}

// builder fills one Reading from one decoded object.
type builder struct {
	obj map[string]any
	r   Reading
	// vals backs the reading's pointer fields in a single allocation.
	vals struct {
		tx, rx, uptime, lac, tac, cid int64
		rsrp, rsrq, sinr, rssi        float64
	}
}

// build applies the strict rules (any failure rejects) and then the
// tolerant ones (failures null the field).
func (b *builder) build(p *Parser, now time.Time) *FieldError {
	if ferr := b.deviceID(); ferr != nil {
		return ferr
	}
	if ferr := b.timestamp(p, now); ferr != nil {
		return ferr
	}
	if ferr := b.counters(); ferr != nil {
		return ferr
	}

	b.inventory()
	b.network()
	b.cell()
	return nil
}

// null records that an optional field was bad and is stored as unknown.
func (b *builder) null(field string) {
	b.r.Nulled = append(b.r.Nulled, field)
}

// deviceID requires a non-blank string device_id.
func (b *builder) deviceID() *FieldError {
	v, ok := b.obj["device_id"]
	if !ok {
		return fieldError("device_id", "required")
	}
	s, isString := v.(string)
	if !isString {
		return fieldError("device_id", "want a string, got %s", jsonType(v))
	}
	if s, _ = textValue(s); s == "" {
		return fieldError("device_id", `must not be empty or "N/A"`)
	}
	b.r.DeviceID = s
	return nil
}

// timestamp parses the reading's time and applies the time bounds; a
// missing or unknown timestamp means the receive time.
func (b *builder) timestamp(p *Parser, now time.Time) *FieldError {
	v, ok := b.obj["timestamp"]
	if !ok || isUnknown(v) {
		b.r.Time, b.r.TimeMissing = now, true
		return nil
	}

	t, err := parseTime(v)
	if err != nil {
		return fieldError("timestamp", "%v", err)
	}
	if limit := now.Add(p.maxFuture()); t.After(limit) {
		return fieldError("timestamp",
			"%s is %s after the receive time %s, more than the %s allowed",
			t.Format(time.RFC3339Nano), t.Sub(now).Round(time.Second),
			now.Format(time.RFC3339), p.maxFuture())
	}
	if !p.MinTime.IsZero() && t.Before(p.MinTime) {
		return fieldError("timestamp", "%s is before the earliest accepted time %s",
			t.Format(time.RFC3339Nano), p.MinTime.UTC().Format(time.RFC3339))
	}
	if p.MaxAge > 0 && t.Before(now.Add(-p.MaxAge)) {
		return fieldError("timestamp", "%s is more than %s before the receive time %s",
			t.Format(time.RFC3339Nano), p.MaxAge, now.Format(time.RFC3339))
	}
	b.r.Time = t
	return nil
}

// parseTime parses a timestamp given as a string or a number.
func parseTime(v any) (time.Time, error) {
	switch x := v.(type) {
	case string:
		return timeparse.Parse(x)
	case json.Number:
		s, err := numberText(x)
		if err != nil {
			return time.Time{}, fmt.Errorf("epoch value %s is out of range", quoteValue(x))
		}
		return timeparse.Parse(s)
	}
	return time.Time{}, fmt.Errorf("want a string or a number, got %s", jsonType(v))
}

// counters reads the strict byte counters.
func (b *builder) counters() *FieldError {
	v, ok := b.obj["counters"]
	if !ok || isUnknown(v) {
		return nil
	}
	c, isObject := v.(map[string]any)
	if !isObject {
		return fieldError("counters", "want an object, got %s", jsonType(v))
	}

	var ferr *FieldError
	b.r.TxBytes, ferr = counter(c, "total_tx_bytes", &b.vals.tx)
	if ferr != nil {
		return ferr
	}
	b.r.RxBytes, ferr = counter(c, "total_rx_bytes", &b.vals.rx)
	return ferr
}

// counter reads one byte counter into dst and returns dst, or nil when the
// counter is absent or unknown.
func counter(c map[string]any, key string, dst *int64) (*int64, *FieldError) {
	v, ok := c[key]
	if !ok || isUnknown(v) {
		return nil, nil
	}
	field := "counters." + key

	n, err := intValue(v)
	switch {
	case errors.Is(err, errNotNumber):
		return nil, fieldError(field, "want a non-negative integer or numeric string, got %s %s",
			jsonType(v), quoteValue(v))
	case err != nil:
		return nil, fieldError(field, "value %s is %v", quoteValue(v), err)
	case n < 0:
		return nil, fieldError(field, "value %d is negative", n)
	}
	*dst = n
	return dst, nil
}

// quoteValue shows a scalar value in an error message, shortened.
func quoteValue(v any) string {
	var s string
	switch x := v.(type) {
	case json.Number:
		s = string(x)
	case string:
		s = strconv.Quote(x)
	default:
		return jsonType(v)
	}
	if len(s) > 40 {
		s = s[:37] + "..."
	}
	return s
}

// inventory reads the descriptive text fields and the MACs.
func (b *builder) inventory() {
	b.r.Name = b.text("name")
	b.r.Model = b.text("model")
	b.r.Firmware = b.text("fw_version")
	b.r.IMEI = b.text("imei")
	b.r.ICCID = b.text("iccid")
	b.r.MAC = b.mac("mac")
	b.r.WLANMAC = b.mac("wlan_mac")
	b.r.Uptime = b.count(b.obj, "uptime", "uptime", &b.vals.uptime)
	b.r.CounterBits = b.counterBits()
}

// network reads the operator, the PLMN and the WAN address.
func (b *builder) network() {
	b.r.Operator = b.text("operator")
	b.r.NetworkType = b.text("network_type")
	b.r.MCC = b.plmn("mcc")
	b.r.MNC = b.plmn("mnc")
	b.r.WANIP = b.ip("wan_ip")
}

// cell reads the serving cell and its signal.
func (b *builder) cell() {
	v, ok := b.obj["cell"]
	if !ok || isUnknown(v) {
		return
	}
	c, isObject := v.(map[string]any)
	if !isObject {
		b.null("cell")
		return
	}

	b.r.LAC = b.count(c, "lac", "cell.lac", &b.vals.lac)
	b.r.TAC = b.count(c, "tac", "cell.tac", &b.vals.tac)
	b.r.CellID = b.count(c, "cid", "cell.cid", &b.vals.cid)
	b.r.RSRP = b.level(c, "rsrp", rsrpMin, rsrpMax, &b.vals.rsrp)
	b.r.RSRQ = b.level(c, "rsrq", rsrqMin, rsrqMax, &b.vals.rsrq)
	b.r.SINR = b.level(c, "sinr", sinrMin, sinrMax, &b.vals.sinr)
	b.r.RSSI = b.level(c, "rssi", rssiMin, rssiMax, &b.vals.rssi)
}

// text reads an optional text field.
func (b *builder) text(key string) string {
	v, ok := b.obj[key]
	if !ok {
		return ""
	}
	s, ok := textValue(v)
	if !ok {
		b.null(key)
	}
	return s
}

// mac reads an optional MAC address in canonical form.
func (b *builder) mac(key string) string {
	s := b.text(key)
	if s == "" {
		return ""
	}
	m, err := mac.Parse(s)
	if err != nil {
		b.null(key)
		return ""
	}
	return m
}

// ip reads an optional IP address in canonical text form; IPv4-mapped
// IPv6 addresses become IPv4 and zones are dropped.
func (b *builder) ip(key string) string {
	s := b.text(key)
	if s == "" {
		return ""
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		b.null(key)
		return ""
	}
	return a.Unmap().WithZone("").String()
}

// plmn reads an MCC or MNC as 1 to 3 digits, keeping leading zeros of a
// string; a number is written as an integer.
func (b *builder) plmn(key string) string {
	v, ok := b.obj[key]
	if !ok || isUnknown(v) {
		return ""
	}
	if s, isString := v.(string); isString {
		if s, _ = textValue(s); s == "" || isPLMNDigits(s) {
			return s
		}
	} else if n, err := intValue(v); err == nil && n >= 0 && n <= 999 {
		return strconv.FormatInt(n, 10)
	}
	b.null(key)
	return ""
}

// isPLMNDigits reports whether s is 1 to 3 ASCII digits.
func isPLMNDigits(s string) bool {
	end, ok := digits(s, 0)
	return ok && end == len(s) && len(s) <= 3
}

// count reads an optional non-negative integer of obj into dst; field is
// its dotted name for Nulled.
func (b *builder) count(obj map[string]any, key, field string, dst *int64) *int64 {
	v, ok := obj[key]
	if !ok || isUnknown(v) {
		return nil
	}
	n, err := intValue(v)
	if err != nil || n < 0 {
		b.null(field)
		return nil
	}
	*dst = n
	return dst
}

// level reads an optional radio level of the cell object into dst and
// nulls it outside [lo, hi].
func (b *builder) level(c map[string]any, key string, lo, hi float64, dst *float64) *float64 {
	v, ok := c[key]
	if !ok || isUnknown(v) {
		return nil
	}
	f, err := floatValue(v)
	if err != nil || f < lo || f > hi || math.IsNaN(f) {
		b.null("cell." + key)
		return nil
	}
	*dst = f
	return dst
}

// counterBits reads the declared counter width, 32 or 64.
func (b *builder) counterBits() int {
	v, ok := b.obj["counter_bits"]
	if !ok || isUnknown(v) {
		return 0
	}
	n, err := intValue(v)
	if err != nil || (n != 32 && n != 64) {
		b.null("counter_bits")
		return 0
	}
	return int(n)
}
