package webhook

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/routerlogger/routerlogger/internal/mac"
	"github.com/routerlogger/routerlogger/internal/timeparse"
)

// The Acct-Status-Type values that belong to a session.
const (
	StatusStart   = "Start"
	StatusInterim = "Interim-Update"
	StatusStop    = "Stop"
)

// statusByName maps the spellings of Acct-Status-Type, names and RFC 2866
// numbers, to the stored value. Accounting-On/Off carry no session.
var statusByName = map[string]string{
	"start": StatusStart, "1": StatusStart,
	"stop": StatusStop, "2": StatusStop,
	"interim-update": StatusInterim, "alive": StatusInterim, "3": StatusInterim,
}

// maxUint32 bounds the 32-bit RADIUS integers.
const maxUint32 = 1<<32 - 1

// maxGigawords keeps gigawords<<32 + octets within a signed 64-bit bigint.
const maxGigawords = 1<<31 - 1

// freeradiusDate is how FreeRADIUS prints a date attribute ("%b %e %Y
// %H:%M:%S %Z"), accepted when it is in UTC.
const freeradiusDate = "Jan _2 2006 15:04:05 UTC"

// AccountingRecord is one validated RADIUS accounting record. MACs are
// canonical (AA:BB:CC:DD:EE:FF) and At is in UTC.
type AccountingRecord struct {
	StatusType string // StatusStart, StatusInterim or StatusStop
	SessionID  string
	UserName   string
	GuestMAC   string
	// CalledStationID is the attribute as sent; RouterMAC and SSID are
	// its parts, RouterMAC empty when it does not start with a MAC.
	CalledStationID string
	RouterMAC       string
	SSID            string
	At              time.Time
	// SessionTime, InputBytes and OutputBytes are nil when the record
	// does not carry them. The byte totals are gigawords<<32 + octets.
	SessionTime *int64
	InputBytes  *int64
	OutputBytes *int64
}

// ParseAccounting decodes and validates one accounting record posted by
// FreeRADIUS's rest module. Every attribute may be a plain JSON value or
// a typed object {"type": ..., "value": [v]}. A refused record returns a
// *FieldError.
func ParseAccounting(body []byte) (AccountingRecord, error) {
	obj, ferr := decodeObject(body)
	if ferr != nil {
		return AccountingRecord{}, ferr
	}
	if bytes.Contains(body, []byte(`\u0000`)) {
		return AccountingRecord{}, &FieldError{Reason: `body holds \u0000, which the ` +
			`attributes column cannot store`, Malformed: true}
	}
	attrs, ferr := flatten(obj)
	if ferr != nil {
		return AccountingRecord{}, ferr
	}
	return buildRecord(attrs)
}

// flatten unwraps the typed-object form of every attribute.
func flatten(obj map[string]any) (map[string]any, *FieldError) {
	out := make(map[string]any, len(obj))
	for k, v := range obj {
		typed, ok := v.(map[string]any)
		if !ok {
			out[k] = v
			continue
		}
		vals, ok := typed["value"].([]any)
		if !ok || len(vals) == 0 {
			return nil, &FieldError{Field: k, Reason: `typed attribute needs a non-empty ` +
				`"value" array`}
		}
		out[k] = vals[0]
	}
	return out, nil
}

// buildRecord turns flattened attributes into an AccountingRecord.
func buildRecord(a map[string]any) (AccountingRecord, error) {
	var rec AccountingRecord
	var err error
	if rec.StatusType, err = statusType(a); err != nil {
		return AccountingRecord{}, err
	}
	if rec.SessionID, err = text(a, "Acct-Session-Id", true); err != nil {
		return AccountingRecord{}, err
	}
	if rec.UserName, err = text(a, "User-Name", false); err != nil {
		return AccountingRecord{}, err
	}
	if err = rec.stations(a); err != nil {
		return AccountingRecord{}, err
	}
	if rec.At, err = eventTime(a); err != nil {
		return AccountingRecord{}, err
	}
	if err = rec.counters(a); err != nil {
		return AccountingRecord{}, err
	}
	return rec, nil
}

// statusType reads Acct-Status-Type by name or number.
func statusType(a map[string]any) (string, error) {
	s, err := text(a, "Acct-Status-Type", true)
	if err != nil {
		return "", err
	}
	st, ok := statusByName[strings.ToLower(s)]
	if !ok {
		return "", &FieldError{Field: "Acct-Status-Type", Reason: fmt.Sprintf("%q is not Start, "+
			"Interim-Update or Stop (only session records are accepted)", s)}
	}
	return st, nil
}

// stations reads Calling-Station-Id (the guest) and Called-Station-Id
// (the router, optionally followed by ":SSID").
func (rec *AccountingRecord) stations(a map[string]any) error {
	calling, err := text(a, "Calling-Station-Id", true)
	if err != nil {
		return err
	}
	if rec.GuestMAC, err = mac.Parse(calling); err != nil {
		return &FieldError{Field: "Calling-Station-Id", Reason: err.Error()}
	}

	if rec.CalledStationID, err = text(a, "Called-Station-Id", false); err != nil {
		return err
	}
	rec.RouterMAC, rec.SSID = splitCalled(rec.CalledStationID)
	return nil
}

// splitCalled splits a Called-Station-Id into its canonical MAC and SSID.
// A value that does not start with a MAC (some NAS send an IP address or
// a name) gives no MAC; it is stored as sent and left unmatched.
func splitCalled(s string) (string, string) {
	s = strings.TrimSpace(s)
	if m, err := mac.Parse(s); err == nil {
		return m, ""
	}
	for i := 0; i < len(s); i++ {
		if s[i] != ':' {
			continue
		}
		if m, err := mac.Parse(s[:i]); err == nil {
			return m, s[i+1:]
		}
	}
	return "", ""
}

// eventTime reads Event-Timestamp: epoch seconds, or a date string.
func eventTime(a map[string]any) (time.Time, error) {
	s, err := text(a, "Event-Timestamp", true)
	if err != nil {
		return time.Time{}, err
	}
	t, err := timeparse.Parse(s)
	if err == nil {
		return t.UTC(), nil
	}
	if t2, err2 := time.Parse(freeradiusDate, strings.TrimSpace(s)); err2 == nil {
		return t2.UTC(), nil
	}
	return time.Time{}, &FieldError{Field: "Event-Timestamp", Reason: err.Error()}
}

// counters reads Acct-Session-Time and the octet and gigaword counters.
func (rec *AccountingRecord) counters(a map[string]any) error {
	var err error
	if rec.SessionTime, err = uintAttr(a, "Acct-Session-Time", maxUint32); err != nil {
		return err
	}
	if rec.InputBytes, err = bytesTotal(a, "Acct-Input-Octets", "Acct-Input-Gigawords"); err != nil {
		return err
	}
	rec.OutputBytes, err = bytesTotal(a, "Acct-Output-Octets", "Acct-Output-Gigawords")
	return err
}

// bytesTotal returns gigawords<<32 + octets, exact, or nil when the
// record has neither attribute.
func bytesTotal(a map[string]any, octetsName, gigaName string) (*int64, error) {
	oct, err := uintAttr(a, octetsName, maxUint32)
	if err != nil {
		return nil, err
	}
	giga, err := uintAttr(a, gigaName, maxGigawords)
	if err != nil {
		return nil, err
	}
	if oct == nil && giga == nil {
		return nil, nil
	}
	var total int64
	if giga != nil {
		total = *giga << 32
	}
	if oct != nil {
		total += *oct
	}
	return &total, nil
}

// uintAttr reads an unsigned integer attribute no larger than limit, sent
// as a JSON number or a decimal string; nil when absent.
func uintAttr(a map[string]any, name string, limit uint64) (*int64, error) {
	v, ok := a[name]
	if !ok || v == nil {
		return nil, nil
	}
	var s string
	switch x := v.(type) {
	case json.Number:
		s = x.String()
	case string:
		s = strings.TrimSpace(x)
	default:
		return nil, &FieldError{Field: name, Reason: fmt.Sprintf("is a JSON %s, want an "+
			"integer", jsonKind(v))}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n > limit {
		return nil, &FieldError{Field: name, Reason: fmt.Sprintf("%q is not a whole number "+
			"from 0 to %d", s, limit)}
	}
	i := int64(n)
	return &i, nil
}

// text reads a string attribute; numbers are taken as their decimal text.
// A required attribute must not be absent or blank.
func text(a map[string]any, name string, required bool) (string, error) {
	var s string
	switch x := a[name].(type) {
	case nil:
	case string:
		s = strings.TrimSpace(x)
	case json.Number:
		s = x.String()
	default:
		return "", &FieldError{Field: name, Reason: fmt.Sprintf("is a JSON %s, want a string",
			jsonKind(x))}
	}
	if required && s == "" {
		return "", &FieldError{Field: name, Reason: "is required and must not be blank"}
	}
	return s, nil
}
