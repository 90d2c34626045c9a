package oauth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"

	"github.com/jackc/pgx/v5"
	"golang.org/x/oauth2"
)

// errUnknownState and errExpiredState are the refusals of a callback whose
// state was never issued, was used already, or was issued too long ago.
var (
	errUnknownState = errors.New("unknown or already used state; start the authorisation again")
	errExpiredState = errors.New("state expired; start the authorisation again")
)

// Start begins an authorisation: it removes expired flows, stores a new
// PKCE verifier under a random state for [Config.VerifierTTL] and returns
// the URL to open in a browser. Start is meant for an operator command,
// not for a public route: whoever completes the flow decides whose
// account the token belongs to.
func (f *Flow) Start(ctx context.Context) (string, error) {
	if _, err := f.Cleanup(ctx); err != nil {
		return "", err
	}

	state := rand.Text()
	verifier := oauth2.GenerateVerifier()
	hash := stateHash(state)
	sealed := f.store.keys.seal(verifier, pkceAAD(f.cfg.Provider, hash))

	const q = `INSERT INTO oauth_pkce (state_hash, provider, key_id, verifier, expires_at)
	VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))`
	_, err := f.store.pool.Exec(ctx, q, hash, f.cfg.Provider, f.store.keys.CurrentID(), sealed,
		f.cfg.VerifierTTL.Seconds())
	if err != nil {
		return "", fmt.Errorf("oauth: %s: store verifier: %w", f.cfg.Provider, err)
	}

	f.log.Info("oauth authorisation started", "expires_in", f.cfg.VerifierTTL)
	return f.oc.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)), nil
}

// Cleanup deletes the provider's authorisations that were started but
// expired, and returns how many it deleted. [Flow.Start] calls it too.
func (f *Flow) Cleanup(ctx context.Context) (int64, error) {
	const q = `DELETE FROM oauth_pkce WHERE provider = $1 AND expires_at <= now()`
	tag, err := f.store.pool.Exec(ctx, q, f.cfg.Provider)
	if err != nil {
		return 0, fmt.Errorf("oauth: %s: clean up verifiers: %w", f.cfg.Provider, err)
	}
	return tag.RowsAffected(), nil
}

// stateHash is the key of a state in oauth_pkce.
func stateHash(state string) []byte {
	h := sha256.Sum256([]byte(state))
	return h[:]
}

// pkceAAD binds a sealed verifier to its provider and state.
func pkceAAD(provider string, hash []byte) string {
	return "oauth_pkce/" + provider + "/" + base64.RawURLEncoding.EncodeToString(hash)
}

// CallbackHandler returns the handler of the provider's redirect after the
// user consented, for GET on [Config.RedirectURL] (for example
// /oauth/rms/callback). It takes the state's verifier, which is single-use,
// exchanges the code with it and stores the token. It answers 400 with the
// reason for a missing, unknown, used or expired state and for a refusal
// by the provider, and 502 when the token exchange fails.
func (f *Flow) CallbackHandler() http.Handler {
	return http.HandlerFunc(f.serveCallback)
}

// serveCallback is the handler of [Flow.CallbackHandler].
func (f *Flow) serveCallback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	state, code := q.Get("state"), q.Get("code")
	if state == "" {
		f.refuse(w, http.StatusBadRequest, "missing state parameter")
		return
	}

	// The verifier goes whatever follows: a code is single-use anyway.
	verifier, err := f.takeVerifier(r.Context(), state)
	switch {
	case errors.Is(err, errUnknownState) || errors.Is(err, errExpiredState):
		f.refuse(w, http.StatusBadRequest, err.Error())
		return
	case err != nil:
		f.log.Error("oauth callback: take verifier", "error", err)
		http.Error(w, "cannot read the authorisation state", http.StatusInternalServerError)
		return
	}

	if e := q.Get("error"); e != "" {
		reason := fmt.Sprintf("the provider refused the authorisation: %s %s", e,
			q.Get("error_description"))
		f.refuse(w, http.StatusBadRequest, reason)
		return
	}
	if code == "" {
		f.refuse(w, http.StatusBadRequest, "missing code parameter")
		return
	}

	if err := f.exchange(r.Context(), code, verifier); err != nil {
		f.log.Error("oauth callback: exchange code", "error", err)
		http.Error(w, "token exchange failed: "+err.Error(), http.StatusBadGateway)
		return
	}
	f.log.Info("oauth authorised")
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "%s authorised: token stored.\n", f.cfg.Provider)
}

// refuse answers a callback that cannot go on with status and reason.
func (f *Flow) refuse(w http.ResponseWriter, status int, reason string) {
	f.log.Warn("oauth callback refused", "reason", reason)
	http.Error(w, "authorisation refused: "+reason, status)
}

// takeVerifier deletes the state's row and returns its verifier; a row is
// therefore used at most once.
func (f *Flow) takeVerifier(ctx context.Context, state string) (string, error) {
	const q = `DELETE FROM oauth_pkce WHERE state_hash = $1 AND provider = $2
	RETURNING key_id, verifier, expires_at <= now()`
	hash := stateHash(state)
	var (
		keyID   string
		sealed  []byte
		expired bool
	)
	err := f.store.pool.QueryRow(ctx, q, hash, f.cfg.Provider).Scan(&keyID, &sealed, &expired)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", errUnknownState
	}
	if err != nil {
		return "", fmt.Errorf("oauth: %s: take verifier: %w", f.cfg.Provider, err)
	}
	if expired {
		return "", errExpiredState
	}

	v, err := f.store.keys.open(keyID, sealed, pkceAAD(f.cfg.Provider, hash))
	if err != nil {
		return "", fmt.Errorf("oauth: %s: open verifier: %w", f.cfg.Provider, err)
	}
	return v, nil
}

// exchange trades code and verifier for a token and stores it.
func (f *Flow) exchange(ctx context.Context, code, verifier string) error {
	ctx, cancel := context.WithTimeout(ctx, f.cfg.RefreshTimeout)
	defer cancel()

	tok, err := f.oc.Exchange(f.httpContext(ctx), code, oauth2.VerifierOption(verifier))
	if err != nil {
		return fmt.Errorf("oauth: %s: exchange code: %w", f.cfg.Provider, err)
	}
	if _, err := f.store.Save(ctx, f.cfg.Provider, tok); err != nil {
		return err
	}

	f.setCached(tok)
	return nil
}
