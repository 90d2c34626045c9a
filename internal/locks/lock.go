package locks

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Back-off between acquisition attempts: it starts at minBackoff, doubles,
// and is capped at maxBackoff or a quarter of the lease, whichever is less.
const (
	minBackoff = 5 * time.Millisecond
	maxBackoff = time.Second
)

// Lock is one held lock. Its methods are safe for concurrent use.
type Lock struct {
	s        *Service
	name     string
	token    int64
	acquired time.Time

	ctx    context.Context
	cancel context.CancelCauseFunc
	stop   chan struct{}
	done   chan struct{}

	once       sync.Once
	releaseErr error
}

// Acquire takes the lock name, waiting at most [Options.Wait] while another
// holds it, and starts renewing it. The wait ends early when ctx is done.
// A timeout returns an error wrapping [ErrTimeout] that names the holder.
// The caller must call [Lock.Release]; [Service.Do] does that for it.
func (s *Service) Acquire(ctx context.Context, name string) (*Lock, error) {
	if name == "" {
		return nil, errors.New("acquire lock: name is empty")
	}
	start := time.Now()
	waitCtx, cancel := context.WithTimeoutCause(ctx, s.wait, ErrTimeout)
	defer cancel()

	token, err := s.acquireLoop(waitCtx, name)
	if err != nil {
		if ctx.Err() == nil && errors.Is(context.Cause(waitCtx), ErrTimeout) {
			return nil, s.timeoutError(ctx, name, err)
		}
		return nil, err
	}

	waited := time.Since(start)
	s.metrics.wait.WithLabelValues(name).Observe(waited.Seconds())
	s.log.Debug("lock acquired", "lock", name, "token", token, "waited", waited)
	return s.start(ctx, name, token), nil
}

// acquireLoop tries until it wins the lock or ctx is done. It retries while
// the lock is held and while the database is unreachable, but returns at
// once an error the server answered with.
func (s *Service) acquireLoop(ctx context.Context, name string) (int64, error) {
	backoff := minBackoff
	limit := min(maxBackoff, s.lease/4)
	var lastErr error
	for attempt := 0; ; attempt++ {
		token, ok, err := s.tryAcquire(ctx, name)
		var pgErr *pgconn.PgError
		switch {
		case ok:
			return token, nil
		case ctx.Err() != nil:
			return 0, fmt.Errorf("acquire lock %q: %w", name,
				errors.Join(context.Cause(ctx), lastErr))
		case errors.As(err, &pgErr):
			return 0, fmt.Errorf("acquire lock %q: %w", name, err)
		case err != nil:
			lastErr = err
		case attempt == 0:
			s.metrics.contention.WithLabelValues(name).Inc()
		}

		// Jitter keeps contenders from retrying in step.
		sleep := backoff/2 + rand.N(backoff/2+1)
		backoff = min(2*backoff, limit)
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("acquire lock %q: %w", name,
				errors.Join(context.Cause(ctx), lastErr))
		case <-time.After(sleep):
		}
	}
}

// tryAcquire makes one attempt. It takes a free lock, or one whose lease
// ran out, with a new token; ok is false when another holds it.
func (s *Service) tryAcquire(ctx context.Context, name string) (token int64, ok bool, err error) {
	const q = `INSERT INTO sync_locks AS l
		    (name, holder, token, acquired_at, renewed_at, expires_at)
		VALUES ($1, $2, nextval('sync_lock_tokens'), clock_timestamp(), clock_timestamp(),
		        clock_timestamp() + make_interval(secs => $3))
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, token = excluded.token,
		    acquired_at = excluded.acquired_at, renewed_at = excluded.renewed_at,
		    expires_at = excluded.expires_at
		WHERE l.expires_at <= clock_timestamp()
		RETURNING token`
	err = s.pool.QueryRow(ctx, q, name, s.holder, s.lease.Seconds()).Scan(&token)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	return token, err == nil, err
}

// timeoutError builds the timeout error, naming the holder when it can.
func (s *Service) timeoutError(ctx context.Context, name string, err error) error {
	qctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	var holder string
	var since time.Time
	const q = `SELECT holder, acquired_at FROM sync_locks WHERE name = $1`
	if s.pool.QueryRow(qctx, q, name).Scan(&holder, &since) == nil {
		return fmt.Errorf("acquire lock %q: %w after %s: held by %s since %s", name, ErrTimeout,
			s.wait, holder, since.UTC().Format(time.RFC3339))
	}
	return fmt.Errorf("acquire lock %q: %w after %s: %w", name, ErrTimeout, s.wait, err)
}

// start returns the held lock and starts its renewal.
func (s *Service) start(ctx context.Context, name string, token int64) *Lock {
	l := &Lock{s: s, name: name, token: token, acquired: time.Now(),
		stop: make(chan struct{}), done: make(chan struct{})}
	l.ctx, l.cancel = context.WithCancelCause(ctx)
	go l.renewLoop()
	return l
}

// Name returns the lock's name.
func (l *Lock) Name() string { return l.name }

// Token returns the lock's fencing token. Tokens grow with every
// acquisition of any lock, so a larger token is a later holder.
func (l *Lock) Token() int64 { return l.token }

// Context returns a context derived from the one given to Acquire. It is
// cancelled with cause [ErrLost] when the lock is lost, and when the lock
// is released.
func (l *Lock) Context() context.Context { return l.ctx }

// renewLoop renews the lease every third of it until released or lost. A
// failed renewal is retried at the next tick; when no renewal has succeeded
// for two thirds of the lease, the lock is given up as lost before the
// lease runs out, so its holder stops before a successor can start.
func (l *Lock) renewLoop() {
	defer close(l.done)
	period := l.s.lease / 3
	tick := time.NewTicker(period)
	defer tick.Stop()

	lastOK := time.Now()
	for {
		select {
		case <-l.stop:
			return
		case <-tick.C:
		}

		attempt := time.Now()
		ok, err := l.renew(period)
		switch {
		case ok:
			lastOK = attempt
			continue
		case err == nil:
			l.lose("released by force or taken over")
			return
		case time.Since(lastOK) >= 2*period:
			l.lose("cannot renew: " + err.Error())
			return
		}
		l.s.log.Warn("lock renewal failed, retrying", "lock", l.name, "error", err)
	}
}

// renew extends the lease once; ok is false when the token no longer
// holds the lock.
func (l *Lock) renew(timeout time.Duration) (ok bool, err error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(l.ctx), timeout)
	defer cancel()
	const q = `UPDATE sync_locks SET renewed_at = clock_timestamp(),
		    expires_at = clock_timestamp() + make_interval(secs => $3)
		WHERE name = $1 AND token = $2`
	tag, err := l.s.pool.Exec(ctx, q, l.name, l.token, l.s.lease.Seconds())
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == 1, nil
}

// lose cancels the lock's context with an error wrapping ErrLost.
func (l *Lock) lose(reason string) {
	l.s.metrics.lost.WithLabelValues(l.name).Inc()
	l.s.log.Warn("lock lost", "lock", l.name, "token", l.token, "reason", reason)
	l.cancel(fmt.Errorf("lock %q: %w: %s", l.name, ErrLost, reason))
}

// Release stops the renewal and frees the lock. It runs even when ctx is
// done, within a timeout of its own. It returns an error wrapping
// [ErrLost] when the lock was lost while held, and the error of the
// database when it could not free the lock (which then frees itself when
// its lease runs out). Errors are logged and counted as well. Calling it
// again returns the first result.
func (l *Lock) Release(ctx context.Context) error {
	l.once.Do(func() { l.releaseErr = l.release(ctx) })
	return l.releaseErr
}

// release does the work of Release.
func (l *Lock) release(ctx context.Context) error {
	close(l.stop)
	<-l.done
	var lostErr error
	if cause := context.Cause(l.ctx); errors.Is(cause, ErrLost) {
		lostErr = cause
	}
	l.cancel(context.Canceled)

	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
	defer cancel()
	tag, err := l.s.pool.Exec(ctx, `DELETE FROM sync_locks WHERE name = $1 AND token = $2`,
		l.name, l.token)
	var relErr error
	switch {
	case err != nil:
		relErr = fmt.Errorf("release lock %q: %w", l.name, err)
	case tag.RowsAffected() == 0 && lostErr == nil:
		relErr = fmt.Errorf("release lock %q: %w: no longer held at release", l.name, ErrLost)
	}

	held := time.Since(l.acquired)
	l.s.metrics.hold.WithLabelValues(l.name).Observe(held.Seconds())
	if relErr != nil {
		l.s.metrics.releaseErrors.WithLabelValues(l.name).Inc()
		l.s.log.Warn("lock release failed", "lock", l.name, "token", l.token, "error", relErr)
	} else {
		l.s.log.Debug("lock released", "lock", l.name, "token", l.token, "held", held)
	}
	return errors.Join(lostErr, relErr)
}
