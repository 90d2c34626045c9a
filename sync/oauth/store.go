package oauth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/oauth2"
)

// State is the health of a provider's authorisation, column state of
// table oauth_tokens and view oauth_state.
type State string

// The states of a stored token.
const (
	StateOK          State = "ok"
	StateNeedsReauth State = "needs_reauth"
)

// ErrNoToken is returned, wrapped, by [Store.Load] when the provider has
// never been authorised.
var ErrNoToken = errors.New("no token stored")

// Record is a provider's stored token and its bookkeeping.
type Record struct {
	Provider   string
	Token      *oauth2.Token // Expiry is zero when the token does not expire
	Scope      string
	State      State
	LastError  string
	Generation int64 // grows by one with every token stored
	UpdatedAt  time.Time
}

// Store keeps tokens in table oauth_tokens, sealed with a [Keyring]. It is
// safe for concurrent use, also by several instances on one database.
type Store struct {
	pool *pgxpool.Pool
	keys *Keyring
}

// NewStore returns a store on pool that seals with keys. It does no I/O.
func NewStore(pool *pgxpool.Pool, keys *Keyring) *Store {
	return &Store{pool: pool, keys: keys}
}

// querier is what a pool and a transaction have in common.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Save stores tok as the provider's token, replacing any other, marks the
// provider ok and returns the new generation. A token without a refresh
// token is stored as such (ClickUp); an empty expiry means it never expires.
func (s *Store) Save(ctx context.Context, provider string, tok *oauth2.Token) (int64, error) {
	if provider == "" || tok == nil || tok.AccessToken == "" {
		return 0, errors.New("oauth: save: provider and access token are required")
	}

	const q = `INSERT INTO oauth_tokens AS t (provider, key_id, access_token, refresh_token,
		token_type, scope, expires_at)
	VALUES ($1, $2, $3, $4, $5, $6, $7)
	ON CONFLICT (provider) DO UPDATE SET key_id = EXCLUDED.key_id,
		access_token = EXCLUDED.access_token, refresh_token = EXCLUDED.refresh_token,
		token_type = EXCLUDED.token_type, scope = EXCLUDED.scope,
		expires_at = EXCLUDED.expires_at, state = 'ok', last_error = NULL,
		generation = t.generation + 1, updated_at = now()
	RETURNING generation`
	var gen int64
	if err := s.pool.QueryRow(ctx, q, s.tokenArgs(provider, tok)...).Scan(&gen); err != nil {
		return 0, fmt.Errorf("oauth: save %s token: %w", provider, err)
	}
	return gen, nil
}

// replace stores tok only if the row is still at generation gen, and
// reports whether it did: a false means someone stored a token meanwhile.
func (s *Store) replace(ctx context.Context, q querier, provider string, tok *oauth2.Token,
	gen int64) (bool, error) {
	const sql = `UPDATE oauth_tokens SET key_id = $2, access_token = $3, refresh_token = $4,
		token_type = $5, scope = $6, expires_at = $7, state = 'ok', last_error = NULL,
		generation = generation + 1, updated_at = now()
	WHERE provider = $1 AND generation = $8`
	tag, err := q.Exec(ctx, sql, append(s.tokenArgs(provider, tok), gen)...)
	if err != nil {
		return false, fmt.Errorf("oauth: store refreshed %s token: %w", provider, err)
	}
	return tag.RowsAffected() == 1, nil
}

// tokenArgs returns the parameters $1 to $7 of Save and replace.
func (s *Store) tokenArgs(provider string, tok *oauth2.Token) []any {
	var refresh []byte
	if tok.RefreshToken != "" {
		refresh = s.keys.seal(tok.RefreshToken, aad(provider, "refresh_token"))
	}
	var expiry *time.Time
	if !tok.Expiry.IsZero() {
		expiry = &tok.Expiry
	}
	scope, _ := tok.Extra("scope").(string)

	return []any{provider, s.keys.CurrentID(), s.keys.seal(tok.AccessToken,
		aad(provider, "access_token")), refresh, tok.TokenType, scope, expiry}
}

// aad is the additional data that binds a sealed secret to its place.
func aad(provider, column string) string {
	return "oauth_tokens/" + provider + "/" + column
}

// Load returns the provider's stored token, opened. It fails with
// [ErrNoToken] when there is none, and with [ErrUnknownKey] or
// [ErrDecrypt] when the keyring cannot open it.
func (s *Store) Load(ctx context.Context, provider string) (Record, error) {
	return s.load(ctx, s.pool, provider)
}

// load is Load on q, a pool or a transaction.
func (s *Store) load(ctx context.Context, q querier, provider string) (Record, error) {
	const sql = `SELECT key_id, access_token, refresh_token, token_type, scope, expires_at,
		state, coalesce(last_error, ''), generation, updated_at
	FROM oauth_tokens WHERE provider = $1`
	var (
		rec          = Record{Provider: provider, Token: &oauth2.Token{}}
		keyID        string
		access, refr []byte
		expiry       *time.Time
	)
	err := q.QueryRow(ctx, sql, provider).Scan(&keyID, &access, &refr, &rec.Token.TokenType,
		&rec.Scope, &expiry, &rec.State, &rec.LastError, &rec.Generation, &rec.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Record{}, fmt.Errorf("oauth: %s: %w", provider, ErrNoToken)
	}
	if err != nil {
		return Record{}, fmt.Errorf("oauth: load %s token: %w", provider, err)
	}

	rec.Token.AccessToken, err = s.keys.open(keyID, access, aad(provider, "access_token"))
	if err != nil {
		return Record{}, fmt.Errorf("oauth: open %s token: %w", provider, err)
	}
	if refr != nil {
		rec.Token.RefreshToken, err = s.keys.open(keyID, refr, aad(provider, "refresh_token"))
		if err != nil {
			return Record{}, fmt.Errorf("oauth: open %s token: %w", provider, err)
		}
	}
	if expiry != nil {
		rec.Token.Expiry = *expiry
	}
	return rec, nil
}

// markNeedsReauth sets the provider's state to needs_reauth with reason,
// unless a new token was stored since generation gen; it reports whether
// it did.
func (s *Store) markNeedsReauth(ctx context.Context, q querier, provider, reason string,
	gen int64) (bool, error) {
	const sql = `UPDATE oauth_tokens SET state = 'needs_reauth', last_error = $3,
		updated_at = now()
	WHERE provider = $1 AND generation = $2`
	tag, err := q.Exec(ctx, sql, provider, gen, reason)
	if err != nil {
		return false, fmt.Errorf("oauth: mark %s as needing re-authorisation: %w", provider, err)
	}
	return tag.RowsAffected() == 1, nil
}

// MarkNeedsReauth sets the provider's state to needs_reauth with reason,
// which view oauth_state shows and the "OAuth needs re-authorisation"
// alert fires on. A client calls it when the provider rejects a token that
// cannot be refreshed (ClickUp's OAUTH_025 "Token invalid"); the next
// [Store.Save] clears it. A provider without a stored token is left alone.
func (s *Store) MarkNeedsReauth(ctx context.Context, provider, reason string) error {
	const sql = `UPDATE oauth_tokens SET state = 'needs_reauth', last_error = $2,
		updated_at = now()
	WHERE provider = $1`
	if _, err := s.pool.Exec(ctx, sql, provider, reason); err != nil {
		return fmt.Errorf("oauth: mark %s as needing re-authorisation: %w", provider, err)
	}
	return nil
}
