package rms

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"
)

func TestDevice_Fields(t *testing.T) {
	var d Device
	raw := `{"id":1,"serial":"6000000003","mac":null,"lac":65535,"cell_id":"0","status":null,
		"last_connection_at":"2025-03-13 18:02:11+00:00","firmware":"RUTX_R_00.07.20.5"}`
	if err := json.Unmarshal([]byte(raw), &d); err != nil {
		t.Fatal(err)
	}
	if d.MAC != "" || d.LAC != "65535" || d.StatusText() != "offline" {
		t.Errorf("decoded %+v", d)
	}
	if _, _, ok := d.Cell(); ok {
		t.Error("placeholder cell taken as a cell")
	}
	if got := d.LastConnection(); !got.Equal(time.Date(2025, 3, 13, 18, 2, 11, 0, time.UTC)) {
		t.Errorf("last connection %s", got)
	}

	d.LAC, d.CellID = "3211", "21283329"
	if lac, cell, ok := d.Cell(); !ok || lac != 3211 || cell != 21283329 {
		t.Errorf("cell %d %d %v", lac, cell, ok)
	}
	if err := json.Unmarshal([]byte(`{"serial":{"x":1}}`), &d); err == nil {
		t.Error("an object taken as text")
	}
}

func TestMerge(t *testing.T) {
	at := func(h int) time.Time { return time.Date(2025, 3, 14, h, 0, 0, 0, time.UTC) }
	dev := Device{ID: 7, Name: "RMS-NAME", Model: "RUT241", IMEI: "350000000000011",
		Firmware: "RMS-FW", LastConnectionAt: "2025-03-14 12:00:00+00:00"}
	tests := []struct {
		name string
		cur  routerRow
		want routerRow
	}{
		{"fills an empty router",
			routerRow{id: 1},
			routerRow{id: 1, rmsID: 7, name: "RMS-NAME", model: "RUT241", imei: "350000000000011",
				lanMAC: "00:1E:42:A0:01:10", firmware: "RMS-FW", firmwareSeenAt: at(12)}},
		{"keeps the name, takes inventory, newer firmware",
			routerRow{id: 1, name: "lobby", model: "OLD", firmware: "T-FW", firmwareSeenAt: at(9)},
			routerRow{id: 1, rmsID: 7, name: "lobby", model: "RUT241", imei: "350000000000011",
				lanMAC: "00:1E:42:A0:01:10", firmware: "RMS-FW", firmwareSeenAt: at(12)}},
		{"older RMS firmware loses",
			routerRow{id: 1, firmware: "T-FW", firmwareSeenAt: at(13)},
			routerRow{id: 1, rmsID: 7, name: "RMS-NAME", model: "RUT241", imei: "350000000000011",
				lanMAC: "00:1E:42:A0:01:10", firmware: "T-FW", firmwareSeenAt: at(13)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := merge(tt.cur, dev, "00:1E:42:A0:01:10", ""); got != tt.want {
				t.Errorf("merge:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestErrorChecks(t *testing.T) {
	src := "start_date"
	e429 := &APIError{Status: 429, Method: "GET", Path: "/devices", RetryAfter: time.Minute}
	e422 := &APIError{Status: 422, Method: "GET", Path: "/devices/1/data-usage",
		Errors: []ErrorEntry{{Code: "VALIDATION_ERROR", Source: &src, Message: "Bad date."}}}
	wrapped := fmt.Errorf("devices at offset 2: %w", e429)
	if !IsRateLimited(wrapped) || RetryAfter(wrapped) != time.Minute || IsTransient(wrapped) {
		t.Errorf("429 checks wrong")
	}
	if IsTransient(e422) || IsAuth(e422) ||
		e422.Error() != "rms: GET /devices/1/data-usage: 422 Unprocessable Entity: "+
			"VALIDATION_ERROR (start_date) Bad date." {
		t.Errorf("422: %v", e422)
	}
	if !IsTransient(&APIError{Status: 503}) || !IsAuth(&APIError{Status: 401}) ||
		!IsForbidden(&APIError{Status: 403}) {
		t.Error("status checks wrong")
	}
	if !IsQuota(fmt.Errorf("x: %w", &QuotaError{Quota: 5})) || IsTransient(&QuotaError{}) {
		t.Error("quota checks wrong")
	}
	if IsTransient(errors.New("plain")) {
		t.Error("a plain error is not transient")
	}
}

func TestRetryAfter(t *testing.T) {
	if d := retryAfter("120"); d != 2*time.Minute {
		t.Errorf("seconds: %s", d)
	}
	if d := retryAfter(time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)); d < 59*time.Minute {
		t.Errorf("date: %s", d)
	}
	if d := retryAfter("soon"); d != 0 {
		t.Errorf("junk: %s", d)
	}
}
