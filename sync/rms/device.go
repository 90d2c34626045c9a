package rms

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Device is the part of an RMS device (the OpenAPI device_body) that the
// sync reads. Text fields are "" where RMS sent null.
type Device struct {
	ID               int64 `json:"id"`
	Serial           Text  `json:"serial"`
	Name             Text  `json:"name"`
	Model            Text  `json:"model"`
	MAC              Text  `json:"mac"`
	WLANMAC          Text  `json:"wlan_mac"`
	IMEI             Text  `json:"imei"`
	ICCID            Text  `json:"iccid"`
	Firmware         Text  `json:"firmware"`
	Status           *int  `json:"status"`
	LastConnectionAt Text  `json:"last_connection_at"`
	MCC              Text  `json:"mcc"`
	MNC              Text  `json:"mnc"`
	LAC              Text  `json:"lac"`
	CellID           Text  `json:"cell_id"`
	Operator         Text  `json:"operator"`
	ConnectionType   Text  `json:"connection_type"`
}

// Text is a JSON string that may come as null (""), or as a number (its
// digits), as RMS fields documented as strings sometimes do.
type Text string

// UnmarshalJSON accepts a string, a number or null.
func (t *Text) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*t = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = Text(strings.TrimSpace(s))
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("want a string or a number, got %s", b)
		}
		*t = Text(n.String())
	}
	return nil
}

// StatusText is RMS's status as text: online, offline (also null) or
// pending.
func (d *Device) StatusText() string {
	switch {
	case d.Status == nil:
		return "offline"
	case *d.Status == 1:
		return "online"
	case *d.Status == 2:
		return "pending"
	}
	return "offline"
}

// LastConnection parses last_connection_at ("Y-m-d H:i:s+00:00", or
// without a zone as UTC); zero when absent or unreadable.
func (d *Device) LastConnection() time.Time {
	return parseRMSTime(string(d.LastConnectionAt))
}

func parseRMSTime(s string) time.Time {
	for _, layout := range []string{"2006-01-02 15:04:05Z07:00", time.RFC3339, rmsTime} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// Cell returns the device's LAC and cell id, or ok false when RMS sent
// none or a placeholder (LAC 0, 65534 or 65535; cell id 0 or
// 268435455): a placeholder is stored as no cell.
func (d *Device) Cell() (lac, cell int64, ok bool) {
	lac, err1 := strconv.ParseInt(string(d.LAC), 10, 64)
	cell, err2 := strconv.ParseInt(string(d.CellID), 10, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	if lac <= 0 || lac == 0xFFFE || lac == 0xFFFF || cell <= 0 || cell == 0xFFFFFFF {
		return 0, 0, false
	}
	return lac, cell, true
}

// DayUsage is a device's data usage on one UTC day, over all its modems
// and SIMs.
type DayUsage struct {
	Day     time.Time // midnight UTC
	TxBytes int64
	RxBytes int64
}

// usageDay is one day of GET /devices/{id}/data-usage.
type usageDay struct {
	Date   string `json:"date"`
	Modems []struct {
		Sims []struct {
			Data struct {
				Tx int64 `json:"tx"`
				Rx int64 `json:"rx"`
			} `json:"data"`
		} `json:"sims"`
	} `json:"modems"`
}

func sumUsage(days []usageDay) ([]DayUsage, error) {
	out := make([]DayUsage, 0, len(days))
	for _, d := range days {
		day, err := time.Parse(time.DateOnly, d.Date)
		if err != nil {
			return nil, fmt.Errorf("rms: data usage: bad date %q", d.Date)
		}
		u := DayUsage{Day: day}
		for _, m := range d.Modems {
			for _, s := range m.Sims {
				if s.Data.Tx < 0 || s.Data.Rx < 0 {
					return nil, fmt.Errorf("rms: data usage of %s: negative bytes", d.Date)
				}
				u.TxBytes += s.Data.Tx
				u.RxBytes += s.Data.Rx
			}
		}
		out = append(out, u)
	}
	return out, nil
}
