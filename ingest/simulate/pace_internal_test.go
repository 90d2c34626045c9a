package simulate

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestPacer_Wait(t *testing.T) {
	tests := []struct {
		name    string
		rate    float64
		callers int
		want    []time.Duration // sorted waits of the callers
	}{
		{"no limit", 0, 3, nil},
		{"callers take successive slots", 4, 5,
			[]time.Duration{0, 250 * time.Millisecond, 500 * time.Millisecond,
				750 * time.Millisecond, time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The clock stands still, so each wait is the caller's slot.
			now := time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC)
			var mu sync.Mutex
			var waits []time.Duration
			p := newPacer(tt.rate, func() time.Time { return now },
				func(_ context.Context, d time.Duration) error {
					mu.Lock()
					defer mu.Unlock()
					waits = append(waits, d)
					return nil
				})

			var wg sync.WaitGroup
			for range tt.callers {
				wg.Go(func() {
					if err := p.wait(t.Context()); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()

			slices.Sort(waits)
			if !slices.Equal(waits, tt.want) {
				t.Errorf("waits %v, want %v", waits, tt.want)
			}
		})
	}
}

func TestPacer_WaitCancelled(t *testing.T) {
	p := newPacer(1, time.Now, sleep)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := p.wait(ctx); err != context.Canceled {
		t.Fatalf("wait on a cancelled context: %v, want context.Canceled", err)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2025, 3, 14, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		header string
		want   time.Duration
		ok     bool
	}{
		{"", 0, false},
		{"5", 5 * time.Second, true},
		{" 0 ", 0, true},
		{"-3", 0, false},
		{"soon", 0, false},
		{"999999999", 24 * time.Hour, true},
		{"Fri, 14 Mar 2025 10:00:07 GMT", 7 * time.Second, true},
		{"Fri, 14 Mar 2025 09:59:00 GMT", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			got, ok := retryAfter(tt.header, now)
			if got != tt.want || ok != tt.ok {
				t.Errorf("retryAfter(%q) = %s, %t; want %s, %t", tt.header, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestWithLuhn(t *testing.T) {
	// Check digits of published examples: an IMEI from 3GPP TS 23.003
	// Annex B and the classic Luhn example number.
	tests := []struct{ digits, want string }{
		{"49015420323751", "490154203237518"},
		{"7992739871", "79927398713"},
	}
	for _, tt := range tests {
		if got := withLuhn(tt.digits); got != tt.want {
			t.Errorf("withLuhn(%s) = %s, want %s", tt.digits, got, tt.want)
		}
	}
}
