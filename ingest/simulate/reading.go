package simulate

import "time"

// Reading is one telemetry reading as a RutOS router posts it; its JSON
// form has the shape of the lines of
// shared/fixtures/router-telemetry-http.jsonl.
type Reading struct {
	DeviceID    string    `json:"device_id"`
	Name        string    `json:"name"`
	Model       string    `json:"model"`
	IMEI        string    `json:"imei"`
	ICCID       string    `json:"iccid"`
	MAC         string    `json:"mac"`
	Time        time.Time `json:"timestamp"` // UTC, whole seconds: RFC 3339 in JSON
	WANIP       string    `json:"wan_ip"`
	Operator    string    `json:"operator"`
	MCC         string    `json:"mcc"` // three digits, leading zeros kept
	MNC         string    `json:"mnc"` // two digits, leading zeros kept
	NetworkType string    `json:"network_type"`
	Cell        Cell      `json:"cell"`
	Counters    Counters  `json:"counters"`
	Firmware    string    `json:"fw_version"`
	Uptime      int64     `json:"uptime"` // seconds since boot
}

// Cell is the serving cell and its signal. Codes are sent as strings, as
// RutOS does; LAC is null on LTE and 5G.
type Cell struct {
	LAC  *string `json:"lac"`
	TAC  string  `json:"tac"`
	CID  string  `json:"cid"`
	RSRP float64 `json:"rsrp"` // dBm
	RSRQ float64 `json:"rsrq"` // dB
	SINR float64 `json:"sinr"` // dB
	RSSI float64 `json:"rssi"` // dBm
}

// Counters are the cumulative byte counters since boot.
type Counters struct {
	TxBytes int64 `json:"total_tx_bytes"`
	RxBytes int64 `json:"total_rx_bytes"`
}
