package simulate

import (
	"context"
	"sync"
	"time"
)

// pacer spaces requests to a rate shared by all clients: each wait
// reserves the next free slot, so bursts never exceed one request.
type pacer struct {
	every time.Duration // zero means no limit
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error

	mu   sync.Mutex
	next time.Time // the earliest free slot
}

// newPacer returns a pacer for rate requests per second; rate 0 means
// no limit.
func newPacer(rate float64, now func() time.Time,
	sleep func(ctx context.Context, d time.Duration) error) *pacer {
	p := &pacer{now: now, sleep: sleep}
	if rate > 0 {
		p.every = time.Duration(float64(time.Second) / rate)
	}
	return p
}

// wait blocks until the caller's slot, or until ctx is done.
func (p *pacer) wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil || p.every <= 0 {
		return err
	}

	p.mu.Lock()
	now := p.now()
	at := p.next
	if at.Before(now) {
		at = now
	}
	p.next = at.Add(p.every)
	p.mu.Unlock()

	return p.sleep(ctx, at.Sub(now))
}
