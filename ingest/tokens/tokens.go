// Package tokens issues and checks the bearer tokens routers post with.
// A token is fleet-wide (it may post for any serial and registers unknown
// ones) or bound to one router. Only a SHA-256 hash of each token is
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

// Grant is what a valid token allows.
type Grant struct {
	ID int64
	// Router is the serial a router token is bound to; empty for a fleet
	// token.
	Router string
}

// Fleet reports whether the grant is fleet-wide.
func (g Grant) Fleet() bool { return g.Router == "" }

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
	tok, hash, err := newToken()
	if err != nil {
		return "", err
	}
	const q = "INSERT INTO api_tokens (hash, scope, note) VALUES ($1, 'fleet', $2)"
	if _, err := s.pool.Exec(ctx, q, hash[:], note); err != nil {
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

// Check returns the grant of token, or [ErrInvalid].
func (s *Store) Check(ctx context.Context, token string) (Grant, error) {
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
	const q = `SELECT t.id, r.serial FROM api_tokens t LEFT JOIN routers r ON r.id = t.router_id
		WHERE t.hash = $1 AND t.revoked_at IS NULL`
	err := s.pool.QueryRow(ctx, q, hash[:]).Scan(&g.ID, &serial)
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
