// Package rmstest is a fake Teltonika RMS API for tests, built from the
// shared fixtures (rms-*.json): GET /devices pages by limit and offset,
// GET /devices/{id}/data-usage, bearer auth, and hooks to inject errors,
// dropped connections and hangs. It counts requests per page and path.
package rmstest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/routerlogger/routerlogger/internal/testkit"
)

// Token is the personal access token the fake accepts.
const Token = "FAKE-RMS-PERSONAL-TOKEN-0001"

// Hook may answer a request itself: it returns true when it wrote the
// answer (or dropped the connection). key is the request's [Key]; n is
// how many requests with that key the fake has seen, this one included.
type Hook func(w http.ResponseWriter, r *http.Request, key string, n int) bool

// Fake is a running fake RMS.
type Fake struct {
	// URL is the API base, for ROUTERLOGGER_RMS_URL.
	URL string

	t       testing.TB
	dir     string
	mu      sync.Mutex
	devices []json.RawMessage
	counts  map[string]int
	hook    Hook
	total   int
}

// New starts a fake serving the fixture fleet (pages 1 and 2: three
// devices); it stops when the test ends.
func New(t testing.TB) *Fake {
	t.Helper()
	f := &Fake{t: t, dir: testkit.FixturesDir(t), counts: map[string]int{}, total: -1}
	for _, page := range []string{"rms-devices-page1.json", "rms-devices-page2.json"} {
		var env struct {
			Data []json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(f.fixture(page), &env); err != nil {
			t.Fatal(err)
		}
		f.devices = append(f.devices, env.Data...)
	}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

// Key names a request for counting: "devices offset=N" for a page,
// "usage ID" for a device's data usage, else the path.
func Key(r *http.Request) string {
	p := strings.TrimSuffix(r.URL.Path, "/")
	switch {
	case p == "/devices":
		return "devices offset=" + r.URL.Query().Get("offset")
	case strings.HasPrefix(p, "/devices/") && strings.HasSuffix(p, "/data-usage"):
		return "usage " + strings.TrimSuffix(strings.TrimPrefix(p, "/devices/"), "/data-usage")
	}
	return p
}

// SetHook sets the hook (nil: none).
func (f *Fake) SetHook(h Hook) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hook = h
}

// SetDevices replaces the fleet with devices (JSON objects).
func (f *Fake) SetDevices(devices []json.RawMessage) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.devices = devices
}

// Devices returns the fleet (JSON objects).
func (f *Fake) Devices() []json.RawMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]json.RawMessage(nil), f.devices...)
}

// SetTotal makes meta.total say n whatever the fleet (-1: the fleet's size).
func (f *Fake) SetTotal(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.total = n
}

// Count returns how many requests with key the fake has seen.
func (f *Fake) Count(key string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.counts[key]
}

// Requests returns the number of requests seen.
func (f *Fake) Requests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.counts {
		n += c
	}
	return n
}

// Counts returns a copy of the counts per key.
func (f *Fake) Counts() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]int, len(f.counts))
	for k, v := range f.counts {
		out[k] = v
	}
	return out
}

func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	key := Key(r)
	f.mu.Lock()
	f.counts[key]++
	n, hook := f.counts[key], f.hook
	f.mu.Unlock()

	if hook != nil && hook(w, r, key, n) {
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+Token {
		f.WriteError(w, http.StatusUnauthorized)
		return
	}
	switch {
	case strings.HasPrefix(key, "devices "):
		f.serveDevices(w, r)
	case strings.HasPrefix(key, "usage "):
		f.serveUsage(w, r, strings.TrimPrefix(key, "usage "))
	default:
		http.NotFound(w, r)
	}
}

func (f *Fake) serveDevices(w http.ResponseWriter, r *http.Request) {
	limit, err1 := strconv.Atoi(r.URL.Query().Get("limit"))
	offset, err2 := strconv.Atoi(r.URL.Query().Get("offset"))
	if err1 != nil || err2 != nil || limit <= 0 || offset < 0 {
		f.WriteError(w, http.StatusUnprocessableEntity)
		return
	}
	f.mu.Lock()
	devs, total := f.devices, f.total
	f.mu.Unlock()
	if total < 0 {
		total = len(devs)
	}
	page := []json.RawMessage{}
	if offset < len(devs) {
		page = devs[offset:min(offset+limit, len(devs))]
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "data": page,
		"meta": map[string]int{"total": total}})
}

// rmsTime is the layout RMS wants for start_date and end_date.
const rmsTime = "2006-01-02 15:04:05"

func (f *Fake) serveUsage(w http.ResponseWriter, r *http.Request, id string) {
	for _, p := range []string{"start_date", "end_date"} {
		if _, err := time.Parse(rmsTime, r.URL.Query().Get(p)); err != nil {
			f.WriteError(w, http.StatusUnprocessableEntity)
			return
		}
	}
	if id != "1500001" {
		writeJSON(w, http.StatusOK, map[string]any{"success": true, "data": []any{}})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(f.fixture("rms-device-data-usage.json"))
}

// WriteError answers status with the errors envelope of rms-errors.json
// (401, 403, 422) or rms-429-assumed.txt (429), or a bare envelope for
// others (5xx).
func (f *Fake) WriteError(w http.ResponseWriter, status int) {
	if status == http.StatusTooManyRequests {
		raw := f.fixture("rms-429-assumed.txt")
		_, body, _ := bytes.Cut(bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n")), []byte("\n\n"))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(bytes.TrimSpace(body))
		return
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(f.fixture("rms-errors.json"), &all); err != nil {
		f.t.Error(err)
	}
	body, ok := all[strconv.Itoa(status)]
	if !ok {
		body = json.RawMessage(fmt.Sprintf(`{"success":false,"errors":[{"code":"SERVER_ERROR",`+
			`"source":null,"message":%q}]}`, http.StatusText(status)))
	}
	writeJSON(w, status, body)
}

// Drop cuts the connection in the middle of an answer: it hijacks it,
// sends a status line, headers and part of the body, and closes it. (A
// connection closed before any answer byte is replayed by Go's transport
// on its own when it was a reused keep-alive one, so the client would
// not see it.)
func Drop(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("rmstest: response writer cannot hijack")
	}
	conn, buf, err := hj.Hijack()
	if err != nil {
		return
	}
	_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" +
		"Content-Length: 4096\r\n\r\n{\"success\":true,\"data\":[")
	_ = buf.Flush()
	_ = conn.Close()
}

// Fleet returns n generated devices shaped like the fixture's first
// device: ids 1600000+i, serials 70000000xx, MACs 00:1E:42:B0:xx:xx.
func (f *Fake) Fleet(n int) []json.RawMessage {
	var tmpl map[string]any
	if err := json.Unmarshal(f.devices[0], &tmpl); err != nil {
		f.t.Fatal(err)
	}
	out := make([]json.RawMessage, n)
	for i := range n {
		d := make(map[string]any, len(tmpl))
		for k, v := range tmpl {
			d[k] = v
		}
		d["id"] = 1600000 + i
		d["serial"] = fmt.Sprintf("7%09d", i)
		d["name"] = fmt.Sprintf("GEN-%04d", i)
		d["mac"] = fmt.Sprintf("00:1E:42:B0:%02X:%02X", i>>8&0xff, i&0xff)
		d["wlan_mac"] = fmt.Sprintf("00:1E:42:C0:%02X:%02X", i>>8&0xff, i&0xff)
		d["imei"] = fmt.Sprintf("36%013d", i)
		raw, err := json.Marshal(d)
		if err != nil {
			f.t.Fatal(err)
		}
		out[i] = raw
	}
	return out
}

func (f *Fake) fixture(name string) []byte {
	raw, err := os.ReadFile(filepath.Join(f.dir, name))
	if err != nil {
		f.t.Fatal(err)
	}
	return raw
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
