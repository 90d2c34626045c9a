package oauth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/oauth2"
)

// ErrNeedsReauth is returned, wrapped, by [Flow.Token] when the provider
// must be authorised again by an operator: it never was, its refresh token
// was refused (invalid_grant), or its token expired and cannot be
// refreshed. Callers fail fast: until a new authorisation is stored, no
// request goes to the token endpoint.
var ErrNeedsReauth = errors.New("needs re-authorisation")

// refreshLockSpace is the first key of the transaction-level advisory lock
// that serialises refreshes across instances; the second key is the hash
// of the provider. The value is arbitrary but must never change. The two
// key form never conflicts with the one-key locks of migrations.
const refreshLockSpace = 0x0A07_0012

// saveTimeout bounds storing a refreshed token, which runs even when the
// refresh's own deadline has passed.
const saveTimeout = 10 * time.Second

// Token returns a valid access token, refreshing it first when it expires
// within [Config.Skew]. Concurrent callers in one process share one
// refresh, and instances sharing the database take turns, each re-reading
// the stored token first, so a refresh token is used at most once. It
// fails with [ErrNeedsReauth] when an operator must authorise again.
func (f *Flow) Token(ctx context.Context) (*oauth2.Token, error) {
	if tok := f.getCached(""); tok != nil {
		return tok, nil
	}
	return f.shared(ctx, "")
}

// Renew returns a token other than rejected, an access token the provider
// refused before its expiry (HTTP 401): it refreshes unless another caller
// or instance already stored a newer token. A client should call it once
// per refused request, then give up, so that a provider refusing every
// token does not cause a refresh per request. It fails like [Flow.Token].
func (f *Flow) Renew(ctx context.Context, rejected string) (*oauth2.Token, error) {
	if tok := f.getCached(rejected); tok != nil {
		return tok, nil
	}
	return f.shared(ctx, rejected)
}

// shared runs token once for all concurrent callers with the same
// rejected token ("" for none).
func (f *Flow) shared(ctx context.Context, rejected string) (*oauth2.Token, error) {
	// The shared work must not die with the first caller's context.
	ch := f.group.DoChan(rejected, func() (any, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), f.cfg.RefreshTimeout)
		defer cancel()
		return f.token(ctx, rejected)
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(*oauth2.Token), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// TokenSource returns a source whose Token calls [Flow.Token] with ctx,
// for code that wants an [oauth2.TokenSource].
func (f *Flow) TokenSource(ctx context.Context) oauth2.TokenSource {
	return tokenSource{ctx: ctx, f: f}
}

type tokenSource struct {
	ctx context.Context
	f   *Flow
}

func (ts tokenSource) Token() (*oauth2.Token, error) { return ts.f.Token(ts.ctx) }

// token reads the stored token and refreshes it if it is stale or is
// rejected.
func (f *Flow) token(ctx context.Context, rejected string) (*oauth2.Token, error) {
	rec, err := f.store.Load(ctx, f.cfg.Provider)
	if err != nil {
		return nil, f.loadError(err)
	}
	if rec.State == StateNeedsReauth {
		return nil, needsReauth(rec)
	}
	if f.usable(rec.Token, rejected) {
		f.setCached(rec.Token)
		return rec.Token, nil
	}

	return f.refresh(ctx, rejected)
}

// refresh refreshes the token while holding the provider's refresh lock.
func (f *Flow) refresh(ctx context.Context, rejected string) (*oauth2.Token, error) {
	tx, err := f.store.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("oauth: %s: begin refresh: %w", f.cfg.Provider, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))

	// Another instance may have refreshed while this one waited: re-read.
	const lock = `SELECT pg_advisory_xact_lock($1, hashtext($2))`
	if _, err := tx.Exec(ctx, lock, refreshLockSpace, f.cfg.Provider); err != nil {
		return nil, fmt.Errorf("oauth: %s: take refresh lock: %w", f.cfg.Provider, err)
	}
	rec, err := f.store.load(ctx, tx, f.cfg.Provider)
	if err != nil {
		return nil, f.loadError(err)
	}

	switch {
	case rec.State == StateNeedsReauth:
		return nil, needsReauth(rec)
	case f.usable(rec.Token, rejected):
		f.metrics.refreshes.WithLabelValues(f.cfg.Provider, "sibling").Inc()
		f.setCached(rec.Token)
		return rec.Token, tx.Commit(ctx)
	case rec.Token.RefreshToken == "" && rejected != "":
		return f.giveUp(ctx, tx, rec, "access token refused and there is no refresh token")
	case rec.Token.RefreshToken == "":
		return f.giveUp(ctx, tx, rec, "access token expired and there is no refresh token")
	}

	return f.refreshLocked(ctx, tx, rec)
}

// refreshLocked uses the refresh token of rec, under the refresh lock
// that tx holds, and stores the result.
func (f *Flow) refreshLocked(ctx context.Context, tx pgx.Tx, rec Record) (*oauth2.Token, error) {
	src := f.oc.TokenSource(f.httpContext(ctx), &oauth2.Token{RefreshToken: rec.Token.RefreshToken})
	tok, err := src.Token()
	if re := (*oauth2.RetrieveError)(nil); errors.As(err, &re) && re.ErrorCode == "invalid_grant" {
		return f.invalidGrant(ctx, tx, rec, re)
	}
	if err != nil {
		f.metrics.refreshes.WithLabelValues(f.cfg.Provider, "error").Inc()
		return nil, fmt.Errorf("oauth: %s: refresh token: %w", f.cfg.Provider, err)
	}

	// The provider has rotated the refresh token: losing the new one now
	// would need a re-authorisation, so saving gets its own deadline.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), saveTimeout)
	defer cancel()
	stored, err := f.store.replace(ctx, tx, f.cfg.Provider, tok, rec.Generation)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("oauth: %s: commit refreshed token: %w", f.cfg.Provider, err)
	}
	if !stored {
		// A new authorisation arrived during the refresh; it wins.
		f.log.Info("oauth token replaced during refresh; using the stored one")
		return f.token(ctx, "")
	}

	f.metrics.refreshes.WithLabelValues(f.cfg.Provider, "refreshed").Inc()
	f.log.Debug("oauth token refreshed", "expiry", tok.Expiry)
	f.setCached(tok)
	return tok, nil
}

// invalidGrant handles a refused refresh token. Writers that do not take
// the refresh lock (a new authorisation through the callback) may have
// stored a token meanwhile: that one is used. Otherwise the provider needs
// re-authorisation.
func (f *Flow) invalidGrant(ctx context.Context, tx pgx.Tx, rec Record,
	re *oauth2.RetrieveError) (*oauth2.Token, error) {
	now, err := f.store.load(ctx, tx, f.cfg.Provider)
	if err != nil {
		return nil, f.loadError(err)
	}
	if now.Generation != rec.Generation && now.State == StateOK && f.fresh(now.Token) {
		f.metrics.refreshes.WithLabelValues(f.cfg.Provider, "sibling").Inc()
		f.log.Info("oauth refresh token refused, but a newer token is stored; using it")
		f.setCached(now.Token)
		return now.Token, tx.Commit(ctx)
	}
	if now.Generation != rec.Generation {
		return nil, fmt.Errorf("oauth: %s: token replaced during refresh; try again",
			f.cfg.Provider)
	}

	f.metrics.refreshes.WithLabelValues(f.cfg.Provider, "invalid_grant").Inc()
	reason := fmt.Sprintf("refresh token refused by the provider: %s %s", re.ErrorCode,
		re.ErrorDescription)
	return f.giveUp(ctx, tx, rec, reason)
}

// giveUp marks the provider as needing re-authorisation, commits and
// returns the error for callers. If a new token was stored since rec,
// that one is returned instead.
func (f *Flow) giveUp(ctx context.Context, tx pgx.Tx, rec Record,
	reason string) (*oauth2.Token, error) {
	marked, err := f.store.markNeedsReauth(ctx, tx, f.cfg.Provider, reason, rec.Generation)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("oauth: %s: commit needs_reauth: %w", f.cfg.Provider, err)
	}
	if !marked {
		return f.token(ctx, "")
	}

	f.setCached(nil)
	f.log.Error("oauth needs re-authorisation", "reason", reason)
	rec.LastError, rec.UpdatedAt = reason, time.Now()
	return nil, needsReauth(rec)
}

// needsReauth is the error of a provider in state needs_reauth.
func needsReauth(rec Record) error {
	return fmt.Errorf("oauth: %s: %w since %s: %s", rec.Provider, ErrNeedsReauth,
		rec.UpdatedAt.UTC().Format(time.RFC3339), rec.LastError)
}

// loadError maps a missing token to ErrNeedsReauth.
func (f *Flow) loadError(err error) error {
	if errors.Is(err, ErrNoToken) {
		return fmt.Errorf("oauth: %s: never authorised: %w", f.cfg.Provider, ErrNeedsReauth)
	}
	return err
}

// fresh reports whether tok can be used for at least Skew more.
func (f *Flow) fresh(tok *oauth2.Token) bool {
	if tok == nil || tok.AccessToken == "" {
		return false
	}
	return tok.Expiry.IsZero() || time.Until(tok.Expiry) > f.cfg.Skew
}

// usable reports whether tok is fresh and not the rejected access token.
func (f *Flow) usable(tok *oauth2.Token, rejected string) bool {
	return f.fresh(tok) && (rejected == "" || tok.AccessToken != rejected)
}

// getCached returns the cached token while it is usable.
func (f *Flow) getCached(rejected string) *oauth2.Token {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.usable(f.cached, rejected) {
		return f.cached
	}
	return nil
}

// setCached caches tok (nil clears the cache).
func (f *Flow) setCached(tok *oauth2.Token) {
	f.mu.Lock()
	f.cached = tok
	f.mu.Unlock()
}
