// Package reading defines the one reading schema that every front door
// (HTTP, MQTT, import) parses into, and the tolerant parser that turns
// router JSON into readings.
//
// The schema is published as a JSON Schema document (schema.json, embedded
// here and served by the HTTP API). Routers are sloppy, so the parser
// accepts numbers sent as strings, "N/A" and "" as null, integral floats
// as integers and MACs in any vendor form; it is strict where usage
// depends on it: device_id, counters and the timestamp.
package reading

import (
	"time"
)

// Source names the front door a reading came through.
type Source string

// The sources a reading can come from; they are stored with every sample.
const (
	SourceHTTP   Source = "http"
	SourceMQTT   Source = "mqtt"
	SourceImport Source = "import"
)

// Reading is one validated telemetry reading of one router. Pointer and
// empty-string fields are unknown (stored as NULL), never zero.
type Reading struct {
	// DeviceID is the router's serial as it sent it; required.
	DeviceID string
	// Time is the instant of the reading, in UTC.
	Time time.Time
	// TimeMissing is set when the reading had no timestamp and Time is the
	// received-at instant.
	TimeMissing bool

	// Inventory, as the router reports it.
	Name        string
	Model       string
	Firmware    string
	IMEI        string
	ICCID       string
	MAC         string // canonical AA:BB:CC:DD:EE:FF
	WLANMAC     string // canonical AA:BB:CC:DD:EE:FF
	CounterBits int    // 0 when not declared, else 32 or 64

	// Cumulative byte counters since boot and uptime in seconds.
	TxBytes *int64
	RxBytes *int64
	Uptime  *int64

	// Radio: RSRP and RSSI in dBm, RSRQ and SINR in dB.
	RSRP *float64
	RSRQ *float64
	SINR *float64
	RSSI *float64

	// Serving cell. MCC and MNC keep their leading zeros.
	MCC         string
	MNC         string
	LAC         *int64
	TAC         *int64
	CellID      *int64
	Operator    string
	NetworkType string
	WANIP       string // a valid IPv4 or IPv6 address in canonical text form

	// Nulled lists the optional fields whose values were out of range or
	// unparsable and were stored as unknown instead of rejecting the reading.
	Nulled []string
}
