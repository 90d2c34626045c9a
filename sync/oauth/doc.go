// Package oauth keeps the OAuth 2 tokens of outside services in PostgreSQL
// and hands them to their clients: Teltonika RMS (authorization code with
// PKCE, expiring access tokens, rotating refresh tokens) and ClickUp
// (tokens that neither expire nor refresh).
//
// # Storage
//
// [NewStore] keeps one token per provider in table oauth_tokens (migration
// 0012), the access and refresh tokens sealed with AES-256-GCM under the
// keys of ROUTERLOGGER_SECRET_KEY ([ParseKeys]). Each row names the key
// that sealed it, so a key is rotated by configuring "new,old" until every
// row has been written again. The view oauth_state (provider, state,
// expires_at, updated_at, last_error) shows the health of each provider
// without secrets to routerlogger_reader; state 'needs_reauth' means an
// operator must authorise again.
//
// # Authorisation
//
// [Flow.Start] stores a PKCE verifier under a random state and returns the
// provider's authorize URL; the operator opens it, consents, and the
// provider redirects to [Flow.CallbackHandler], which exchanges the code
// and stores the token. A state is single-use and expires after
// [Config.VerifierTTL]; [Flow.Cleanup] deletes expired ones.
//
// # Tokens
//
// [Flow.Token] returns a valid access token and refreshes it shortly before
// expiry. Concurrent callers in a process share one refresh; instances
// sharing the database serialise refreshes with a transaction-level
// advisory lock per provider and re-read the stored token under it, so a
// rotating refresh token is sent once. The lock leaves the token row
// writable, so a new authorisation arriving during a refresh is never
// blocked by it. When the provider answers invalid_grant, a token stored
// meanwhile is used if there is one; otherwise the provider is marked
// needs_reauth and every later call fails fast with [ErrNeedsReauth],
// without a request, until a new token is stored. [Flow.Renew] replaces
// an access token the provider refused before its expiry.
//
// For ClickUp, [Store.StaticSource] reads the stored token and never
// refreshes; [ClickUpAuthError] turns a 401 body into an [*AuthError] that
// is [ErrUnauthorized], which fails that call, and [Store.MarkNeedsReauth]
// records a revoked token for the alert.
package oauth
