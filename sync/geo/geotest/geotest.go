// Package geotest is a fake of the geolocation provider's process API
// (Unwired Labs shape) for tests: it knows a set of cells, answers "No
// matches found" for the others, refuses any token but its own, counts
// calls and records request bodies. Only tests import it.
package geotest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// Key is the token the fake accepts unless told otherwise.
const Key = "FAKE-unwired-token"

// Request is a request body as the fake received it.
type Request struct {
	Token string `json:"token"`
	Radio string `json:"radio"`
	MCC   int    `json:"mcc"`
	MNC   int    `json:"mnc"`
	Cells []struct {
		LAC int64 `json:"lac"`
		CID int64 `json:"cid"`
	} `json:"cells"`
	Address int `json:"address"`
}

// CellKey names a cell as the provider receives it.
type CellKey struct {
	Radio    string
	MCC, MNC int
	LAC, CID int64
}

// Fix is a known cell's position.
type Fix struct {
	Lat, Lon  float64
	AccuracyM int
}

// Failure is an answer the fake gives instead of a lookup.
type Failure struct {
	Status     int
	RetryAfter string
	Body       string
}

// Provider is the fake. Its methods are safe for concurrent use.
type Provider struct {
	URL string

	mu       sync.Mutex
	key      string
	cells    map[CellKey]Fix
	requests []Request
	failures []Failure
	balance  int
	delay    time.Duration
	delayAt  int // the 1-based call from which delay applies
}

// New starts a fake on 127.0.0.1 that stops when the test ends.
func New(tb testing.TB) *Provider {
	tb.Helper()
	p := &Provider{key: Key, cells: map[CellKey]Fix{}, balance: 1000}
	srv := httptest.NewServer(http.HandlerFunc(p.serve))
	tb.Cleanup(srv.Close)
	p.URL = srv.URL + "/v2/process.php"
	return p
}

// Add makes a cell known.
func (p *Provider) Add(k CellKey, f Fix) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cells[k] = f
}

// FailNext makes the next len(fs) requests get these answers, in order.
func (p *Provider) FailNext(fs ...Failure) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failures = append(p.failures, fs...)
}

// SetBalance sets the requests left; at 0 the fake refuses with the
// provider's balance error.
func (p *Provider) SetBalance(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.balance = n
}

// SetDelay makes the answer to call number from (1-based, counting every
// request so far) and all later ones wait d, or until the client gives
// up. A zero d ends the delay.
func (p *Provider) SetDelay(from int, d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.delayAt, p.delay = from, d
}

// Calls returns how many requests arrived.
func (p *Provider) Calls() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.requests)
}

// Requests returns the bodies received, in order.
func (p *Provider) Requests() []Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Request(nil), p.requests...)
}

func (p *Provider) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var req Request
	decodeErr := json.Unmarshal(raw, &req)

	p.mu.Lock()
	p.requests = append(p.requests, req)
	delay := time.Duration(0)
	if len(p.requests) >= p.delayAt {
		delay = p.delay
	}
	p.mu.Unlock()
	select {
	case <-time.After(delay):
	case <-r.Context().Done():
	}

	p.mu.Lock()
	defer p.mu.Unlock()

	if len(p.failures) > 0 {
		f := p.failures[0]
		p.failures = p.failures[1:]
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(f.Status)
		_, _ = io.WriteString(w, f.Body)
		return
	}
	switch {
	case r.Method != http.MethodPost || decodeErr != nil || len(req.Cells) == 0:
		p.answer(w, map[string]any{"status": "error", "message": "Invalid request"})
	case req.Token != p.key:
		p.answer(w, map[string]any{"status": "error", "message": "Invalid token", "balance": 0})
	case p.balance <= 0:
		p.answer(w, map[string]any{"status": "error",
			"message": "No balance on token. Please upgrade your plan.", "balance": 0})
	default:
		p.lookup(w, req)
	}
}

// lookup answers for the request's serving cell.
func (p *Provider) lookup(w http.ResponseWriter, req Request) {
	p.balance--
	k := CellKey{Radio: req.Radio, MCC: req.MCC, MNC: req.MNC, LAC: req.Cells[0].LAC,
		CID: req.Cells[0].CID}
	f, ok := p.cells[k]
	if !ok {
		p.answer(w, map[string]any{"status": "error", "message": "No matches found",
			"balance": p.balance})
		return
	}
	p.answer(w, map[string]any{"status": "ok", "balance": p.balance, "lat": f.Lat,
		"lon": f.Lon, "accuracy": f.AccuracyM})
}

func (p *Provider) answer(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(v); err != nil {
		panic(fmt.Sprintf("geotest: encode answer: %v", err))
	}
}
