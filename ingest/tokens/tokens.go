// Package tokens issues and checks bearer tokens. A telemetry token is
// fleet-wide (it may post for any serial and registers unknown ones) or
// bound to one router; an admin token manages the webhook dead-letter
// queue; a portal token lets one named captive portal post its webhooks.
// [Store.Check] accepts only telemetry tokens, [Store.CheckScope] one
// scope. Only a SHA-256 hash of each token is
// stored: tokens are 32 random bytes, so a plain hash cannot be reversed
// and needs no salt. Revocation takes effect within the cache TTL.
package tokens

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/routerlogger/routerlogger/internal/clock"
)

// Prefix starts every token, so that leaked tokens are easy to spot.
const Prefix = "rl_"

// ErrInvalid is returned for a token that is unknown or revoked.
var ErrInvalid = errors.New("invalid or revoked token")

// ErrScope is returned by [Store.CheckScope] for a valid token of another
// scope (answer 403, not 401).
var ErrScope = errors.New("token does not grant this scope")

// The scopes of api_tokens.
const (
	ScopeFleet  = "fleet"
	ScopeRouter = "router"
	ScopeAdmin  = "admin"
	ScopePortal = "portal"
)

// Grant is what a valid token allows.
type Grant struct {
	ID    int64
	Scope string
	// Router is the serial a router token is bound to; empty otherwise.
	Router string
	// Note is the token's note: for a portal token, the portal's name.
	Note string
}

// Fleet reports whether the grant is fleet-wide.
func (g Grant) Fleet() bool { return g.Scope == ScopeFleet }

// Info describes a stored token, for listing.
type Info struct {
	ID        int64
	Scope     string
	Router    string
	Note      string
	CreatedAt time.Time
	RevokedAt *time.Time
}

// Store issues, checks and revokes tokens. It is safe for concurrent use.
type Store struct {
	pool  *pgxpool.Pool
	clock clock.Clock
	ttl   time.Duration

	mu    sync.Mutex
	cache map[[32]byte]cached
}

type cached struct {
	grant   Grant
	err     error
	expires time.Time
}

// NewStore returns a store over pool that caches answers for ttl.
func NewStore(pool *pgxpool.Pool, c clock.Clock, ttl time.Duration) *Store {
	if c == nil {
		c = clock.Real{}
	}
	return &Store{pool: pool, clock: c, ttl: ttl, cache: map[[32]byte]cached{}}
}

// CreateFleet issues a fleet-wide token and returns it; it is shown once.
func (s *Store) CreateFleet(ctx context.Context, note string) (string, error) {
	return s.create(ctx, ScopeFleet, note)
}

// CreateAdmin issues an admin token (dead-letter queue endpoints).
func (s *Store) CreateAdmin(ctx context.Context, note string) (string, error) {
	return s.create(ctx, ScopeAdmin, note)
}

// CreatePortal issues a bearer token for the captive portal named portal,
// which is stored as the token's note.
func (s *Store) CreatePortal(ctx context.Context, portal string) (string, error) {
	portal = strings.TrimSpace(portal)
	if portal == "" {
		return "", errors.New("portal name is empty")
	}
	return s.create(ctx, ScopePortal, portal)
}

// create issues a token of a scope bound to no router.
func (s *Store) create(ctx context.Context, scope, note string) (string, error) {
	tok, hash, err := newToken()
	if err != nil {
		return "", err
	}
	const q = "INSERT INTO api_tokens (hash, scope, note) VALUES ($1, $2, $3)"
	if _, err := s.pool.Exec(ctx, q, hash[:], scope, note); err != nil {
		return "", fmt.Errorf("store token: %w", err)
	}
	return tok, nil
}

// CreateRouter issues a token bound to serial, registering the router when
// it is unknown.
func (s *Store) CreateRouter(ctx context.Context, serial, note string) (string, error) {
	serial = strings.TrimSpace(serial)
	if serial == "" {
		return "", errors.New("router serial is empty")
	}
	tok, hash, err := newToken()
	if err != nil {
		return "", err
	}
	const q = `WITH r AS (
			INSERT INTO routers (serial) VALUES ($1)
			ON CONFLICT (serial) DO UPDATE SET serial = EXCLUDED.serial
			RETURNING id)
		INSERT INTO api_tokens (hash, scope, router_id, note)
		SELECT $2, 'router', id, $3 FROM r`
	if _, err := s.pool.Exec(ctx, q, serial, hash[:], note); err != nil {
		return "", fmt.Errorf("store token: %w", err)
	}
	return tok, nil
}

// Check returns the grant of a telemetry (fleet or router) token, or
// [ErrInvalid]; admin and portal tokens are invalid here.
func (s *Store) Check(ctx context.Context, token string) (Grant, error) {
	g, err := s.lookup(ctx, token)
	if err != nil {
		return Grant{}, err
	}
	if g.Scope != ScopeFleet && g.Scope != ScopeRouter {
		return Grant{}, ErrInvalid
	}
	return g, nil
}

// CheckScope returns the grant of a token of scope, [ErrInvalid] for an
// unknown or revoked token, or [ErrScope] for a token of another scope.
func (s *Store) CheckScope(ctx context.Context, token, scope string) (Grant, error) {
	g, err := s.lookup(ctx, token)
	if err != nil {
		return Grant{}, err
	}
	if g.Scope != scope {
		return Grant{}, ErrScope
	}
	return g, nil
}

// lookup returns the grant of any valid token, cached for the TTL.
func (s *Store) lookup(ctx context.Context, token string) (Grant, error) {
	if !strings.HasPrefix(token, Prefix) {
		return Grant{}, ErrInvalid
	}
	hash := sha256.Sum256([]byte(token))
	now := s.clock.Now()

	s.mu.Lock()
	c, ok := s.cache[hash]
	s.mu.Unlock()
	if ok && now.Before(c.expires) {
		return c.grant, c.err
	}

	var g Grant
	var serial *string
	const q = `SELECT t.id, t.scope, r.serial, coalesce(t.note, '')
		FROM api_tokens t LEFT JOIN routers r ON r.id = t.router_id
		WHERE t.hash = $1 AND t.revoked_at IS NULL`
	err := s.pool.QueryRow(ctx, q, hash[:]).Scan(&g.ID, &g.Scope, &serial, &g.Note)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		err = ErrInvalid
	case err != nil:
		return Grant{}, fmt.Errorf("check token: %w", err) // not cached: the database failed
	}
	if serial != nil {
		g.Router = *serial
	}

	s.mu.Lock()
	if len(s.cache) > 10_000 {
		clear(s.cache)
	}
	s.cache[hash] = cached{grant: g, err: err, expires: now.Add(s.ttl)}
	s.mu.Unlock()
	return g, err
}

// Revoke revokes the token with id; revoking twice is not an error.
func (s *Store) Revoke(ctx context.Context, id int64) error {
	const q = "UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1"
	tag, err := s.pool.Exec(ctx, q, id)
	if err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("revoke token: no token with id %d", id)
	}
	return nil
}

// List returns every token, newest first.
func (s *Store) List(ctx context.Context) ([]Info, error) {
	const q = `SELECT t.id, t.scope, coalesce(r.serial, ''), coalesce(t.note, ''), t.created_at, t.revoked_at
		FROM api_tokens t LEFT JOIN routers r ON r.id = t.router_id ORDER BY t.id DESC`
	rows, _ := s.pool.Query(ctx, q)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Info, error) {
		var i Info
		err := row.Scan(&i.ID, &i.Scope, &i.Router, &i.Note, &i.CreatedAt, &i.RevokedAt)
		return i, err
	})
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return out, nil
}

// newToken returns a fresh token and its hash.
func newToken() (string, [32]byte, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", [32]byte{}, fmt.Errorf("generate token: %w", err)
	}
	tok := Prefix + base64.RawURLEncoding.EncodeToString(b[:])
	return tok, sha256.Sum256([]byte(tok)), nil
}
