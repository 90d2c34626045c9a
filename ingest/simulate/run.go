package simulate

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// ErrGaveUp is returned, wrapped, by [Run] when a POST still failed after
// Config.MaxRetries retries.
var ErrGaveUp = errors.New("retries exhausted")

// Report says what a [Run] did.
type Report struct {
	// Posted counts the readings of the POSTs the server answered, copies
	// of duplicates included.
	Posted int
	// Accepted, Duplicates and Rejected are the server's counts. A POST
	// retried after a transport error may have been committed already, so
	// Duplicates can exceed the truth's.
	Accepted, Duplicates, Rejected int
	// Requests counts HTTP requests, retries included.
	Requests int
	// Retries counts the requests that repeated an unanswered POST.
	Retries int
	// Elapsed is the wall time of the run, by Config.Now.
	Elapsed time.Duration
	// Truth is the plan's truth, to compare with what the server computed.
	Truth Truth
}

// Run plans the fleet of cfg and posts every delivery in send order to
// cfg.URL, Batch readings per POST, from Clients goroutines, at most Rate
// POSTs per second. A POST answered 429, 502, 503 or 504, or that failed
// in transport, is retried after the server's Retry-After (else a doubling
// backoff), each wait capped at MaxRetryWait, at most MaxRetries times;
// any other answer but 202 (or a 400 that rejected every reading) stops
// the run. Run returns when every POST was answered, or on the first
// fatal error or ctx's end, after all its goroutines have ended; the
// report then says how far it got.
func Run(ctx context.Context, cfg Config) (Report, error) {
	if err := cfg.validate(); err != nil {
		return Report{}, err
	}
	cfg = cfg.withDefaults()
	deliveries, truth := plan(cfg)
	batches := split(deliveries, cfg.Batch)

	s := newSender(cfg)
	defer s.close()
	cfg.Log.Info("simulation started", "routers", cfg.Routers, "readings", len(deliveries),
		"posts", len(batches), "start", cfg.Start, "url", cfg.URL)

	began := cfg.Now()
	err := s.run(ctx, batches)
	rep := s.report()
	rep.Elapsed = cfg.Now().Sub(began)
	rep.Truth = truth
	if err != nil {
		return rep, fmt.Errorf("simulate: %d of %d readings posted: %w",
			rep.Posted, len(deliveries), err)
	}

	cfg.Log.Info("simulation finished", "posted", rep.Posted, "accepted", rep.Accepted,
		"duplicates", rep.Duplicates, "rejected", rep.Rejected, "retries", rep.Retries,
		"elapsed", rep.Elapsed)
	return rep, nil
}

// batch is the deliveries of one POST.
type batch struct {
	index int
	ds    []Delivery
}

// split cuts deliveries into batches of size n, in order.
func split(ds []Delivery, n int) []batch {
	out := make([]batch, 0, (len(ds)+n-1)/n)
	for i := 0; i < len(ds); i += n {
		out = append(out, batch{index: len(out), ds: ds[i:min(i+n, len(ds))]})
	}
	return out
}

// sender posts batches and keeps the counts of a run.
type sender struct {
	cfg      Config
	endpoint string
	client   *http.Client
	own      *http.Transport // the transport of a client sender made, else nil
	pace     *pacer

	mu  sync.Mutex
	rep Report
}

// newSender prepares the HTTP client and the pacer for cfg.
func newSender(cfg Config) *sender {
	s := &sender{cfg: cfg, endpoint: endpoint(cfg.URL), client: cfg.HTTPClient}
	if s.client == nil {
		s.own = http.DefaultTransport.(*http.Transport).Clone()
		s.own.MaxIdleConnsPerHost = cfg.Clients
		s.client = &http.Client{Timeout: DefaultHTTPTimeout, Transport: s.own}
	}
	s.pace = newPacer(cfg.Rate, cfg.Now, cfg.Sleep)
	return s
}

// close drops the idle connections of a client the sender made.
func (s *sender) close() {
	if s.own != nil {
		s.own.CloseIdleConnections()
	}
}

// run feeds the batches to Clients workers and waits for all of them. The
// first fatal error of a worker stops the others.
func (s *sender) run(ctx context.Context, batches []batch) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	jobs := make(chan batch)
	var wg sync.WaitGroup
	for range s.cfg.Clients {
		wg.Go(func() {
			for b := range jobs {
				if err := s.post(ctx, b); err != nil {
					cancel(err)
					return
				}
			}
		})
	}

	feed(ctx, jobs, batches)
	close(jobs)
	wg.Wait()
	return context.Cause(ctx)
}

// feed hands out the batches in order until they are all taken or ctx
// is done.
func feed(ctx context.Context, jobs chan<- batch, batches []batch) {
	for _, b := range batches {
		select {
		case jobs <- b:
		case <-ctx.Done():
			return
		}
	}
}

// report returns a copy of the counts so far.
func (s *sender) report() Report {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rep
}

// count changes the counts under the lock.
func (s *sender) count(f func(r *Report)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.rep)
}
