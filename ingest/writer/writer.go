// Package writer is the one path by which readings reach the database.
// HTTP, MQTT and import hand it batches; it groups whatever is queued into
// one transaction (group commit), copies new samples with CopyFrom, applies
// the usage rules of package ingest/usage under a row lock per router,
// revises the successor of a late sample, keeps the rollups (on plain
// PostgreSQL), the latest status, rejects and ingest counters, commits, and
// only then answers each caller. A caller acknowledges its sender only
// after [Writer.Write] returned without error.
//
// Correctness lives in the transaction: the router_status row of every
// router in a batch is locked (in id order, so concurrent writers cannot
// deadlock) and its stored usage state is the truth, so several writers
// and several instances may write for one router at once. Memory only
// caches serial-to-id lookups.
//
// A delta belongs to the hour and day of the reading that ends its interval.
package writer

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/routerlogger/routerlogger/internal/clock"
	"github.com/routerlogger/routerlogger/internal/db"
)

// Config tunes a [Writer]. Zero values take the defaults.
type Config struct {
	// MaxBatch caps the readings of one transaction (default 5000).
	MaxBatch int
	// Linger is how long a worker waits for more work to join a small
	// batch (default 0: take what is queued, the queue fills while the
	// previous transaction commits).
	Linger time.Duration
	// QueueSize bounds the batches waiting for a worker (default 1024).
	QueueSize int
	// Workers is the number of concurrent transactions (default 2).
	Workers int
	// Gap is the gap threshold of the usage rules (default 600 s).
	Gap time.Duration
	// Timeout bounds one transaction (default 30 s), so a stalled database
	// turns into errors instead of a queue that never drains.
	Timeout time.Duration
	// Shard tells this instance's ingest_stats rows apart from other
	// instances' (default: random).
	Shard int
	// Mode is the storage mode; empty means read it from the database.
	Mode   db.Mode
	Clock  clock.Clock
	Logger *slog.Logger
	// Registerer receives the writer's metrics; nil registers none.
	Registerer prometheus.Registerer
}

// Writer commits batches. Create it with [New], then call [Writer.Start];
// it is safe for concurrent use.
type Writer struct {
	pool    *pgxpool.Pool
	cfg     Config
	log     *slog.Logger
	metrics *metrics
	routers *routerCache

	mu     sync.RWMutex // guards closed against sends on queue
	closed bool
	queue  chan *job
	wg     sync.WaitGroup
}

type job struct {
	ctx   context.Context
	batch Batch
	done  chan jobResult
}

type jobResult struct {
	res Result
	err error
}

// New returns a writer over pool. It does no I/O.
func New(pool *pgxpool.Pool, cfg Config) *Writer {
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 5000
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 1024
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 2
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Shard == 0 {
		cfg.Shard = int(time.Now().UnixNano() % 1_000_000)
	}
	w := &Writer{
		pool:    pool,
		cfg:     cfg,
		log:     cfg.Logger.With("component", "writer"),
		metrics: newMetrics(cfg.Registerer),
		routers: newRouterCache(100_000),
		queue:   make(chan *job, cfg.QueueSize),
	}
	w.metrics.queueCap.Set(float64(cfg.QueueSize))
	return w
}

// Start reads the storage mode when it was not configured and starts the
// workers. The workers run until [Writer.Close].
func (w *Writer) Start(ctx context.Context) error {
	if w.cfg.Mode == "" {
		st, err := db.Check(ctx, w.pool)
		if err != nil {
			return fmt.Errorf("writer: %w", err)
		}
		w.cfg.Mode = st.Mode
	}
	for i := 0; i < w.cfg.Workers; i++ {
		w.wg.Add(1)
		go w.work(i)
	}
	w.log.Info("writer started", "workers", w.cfg.Workers, "mode", w.cfg.Mode,
		"max_batch", w.cfg.MaxBatch, "queue", w.cfg.QueueSize)
	return nil
}

// Write queues b and waits until it is committed or failed. It returns
// [ErrQueueFull] at once when the queue has no room, and an error wrapping
// [ErrUnavailable] when the transaction did not commit; in both cases
// nothing of b is stored. When ctx ends first, the batch may still commit;
// the caller must then treat it as not acknowledged (a retry is a no-op).
func (w *Writer) Write(ctx context.Context, b Batch) (Result, error) {
	if b.Received.IsZero() {
		b.Received = w.cfg.Clock.Now()
	}
	j := &job{ctx: ctx, batch: b, done: make(chan jobResult, 1)}

	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		return Result{}, ErrClosed
	}
	select {
	case w.queue <- j:
		w.metrics.queueDepth.Set(float64(len(w.queue)))
	default:
		w.mu.RUnlock()
		w.metrics.queueFull.Inc()
		return Result{}, ErrQueueFull
	}
	w.mu.RUnlock()

	select {
	case r := <-j.done:
		return r.res, r.err
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
}

// Close stops accepting batches, lets the workers commit what is queued
// and waits for them until ctx ends. It is safe to call more than once.
func (w *Writer) Close(ctx context.Context) error {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.queue)
	}
	w.mu.Unlock()

	done := make(chan struct{})
	go func() {
		w.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		w.log.Info("writer stopped")
		return nil
	case <-ctx.Done():
		return fmt.Errorf("writer: drain: %w", ctx.Err())
	}
}

// QueueLen returns the number of batches waiting for a worker.
func (w *Writer) QueueLen() int { return len(w.queue) }

// work is one worker: it gathers queued jobs into a group and commits it.
func (w *Writer) work(id int) {
	defer w.wg.Done()
	for first := range w.queue {
		group := w.gather(first)
		w.commit(id, group)
	}
}

// gather takes first and whatever else is queued, up to MaxBatch readings,
// waiting at most Linger for more.
func (w *Writer) gather(first *job) []*job {
	group := []*job{first}
	n := len(first.batch.Readings)
	var linger <-chan time.Time
	if w.cfg.Linger > 0 {
		t := time.NewTimer(w.cfg.Linger)
		defer t.Stop()
		linger = t.C
	}
	for n < w.cfg.MaxBatch {
		select {
		case j, ok := <-w.queue:
			if !ok {
				return group
			}
			group = append(group, j)
			n += len(j.batch.Readings)
			continue
		default:
		}
		if linger == nil {
			return group
		}
		select {
		case j, ok := <-w.queue:
			if !ok {
				return group
			}
			group = append(group, j)
			n += len(j.batch.Readings)
		case <-linger:
			return group
		}
	}
	return group
}

// commit runs one transaction for group and answers every job in it.
func (w *Writer) commit(worker int, group []*job) {
	w.metrics.queueDepth.Set(float64(len(w.queue)))
	live := group[:0]
	for _, j := range group {
		if err := j.ctx.Err(); err != nil {
			j.done <- jobResult{err: err} // the caller left: do not store it
			continue
		}
		live = append(live, j)
	}
	if len(live) == 0 {
		return
	}

	start := time.Now()
	results, err := w.runWithRetry(worker, live)
	elapsed := time.Since(start)

	if err != nil {
		w.metrics.failures.Inc()
		w.log.Warn("batch not committed", "error", err, "jobs", len(live))
		err = fmt.Errorf("%w: %w", ErrUnavailable, err)
		for _, j := range live {
			j.done <- jobResult{err: err}
		}
		return
	}

	w.metrics.commitSeconds.Observe(elapsed.Seconds())
	total := 0
	for i, j := range live {
		total += len(j.batch.Readings)
		w.metrics.count(j.batch.Source, results[i])
		j.done <- jobResult{res: results[i]}
	}
	w.metrics.batchReadings.Observe(float64(total))
	w.log.Debug("batch committed", "jobs", len(live), "readings", total, "elapsed", elapsed)
}
