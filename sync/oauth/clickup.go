package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"golang.org/x/oauth2"
)

// ErrUnauthorized is returned, wrapped in an [*AuthError], when a provider
// refused a request's credentials. For a provider without refresh tokens
// (ClickUp) this fails the call: retrying or refreshing cannot help, only
// a new token can.
var ErrUnauthorized = errors.New("unauthorized")

// AuthError is a provider's refusal of a request's credentials.
type AuthError struct {
	Provider string
	Status   int
	Code     string // the provider's error code, such as ClickUp's OAUTH_025
	Message  string
}

func (e *AuthError) Error() string {
	return fmt.Sprintf("%s: %s (HTTP %d, %s): %s", e.Provider, ErrUnauthorized, e.Status,
		e.Code, e.Message)
}

// Unwrap makes errors.Is(err, ErrUnauthorized) hold.
func (e *AuthError) Unwrap() error { return ErrUnauthorized }

// IsUnauthorized reports whether err is a refusal of credentials, which no
// retry of the same request can cure.
func IsUnauthorized(err error) bool { return errors.Is(err, ErrUnauthorized) }

// ClickUpAuthError classifies a ClickUp response: for a 401 it returns an
// [*AuthError] with the {err, ECODE} of the body (OAUTH_017, OAUTH_023,
// OAUTH_025, ...), for any other status nil.
func ClickUpAuthError(status int, body []byte) error {
	if status != http.StatusUnauthorized {
		return nil
	}

	var b struct {
		Err   string `json:"err"`
		ECode string `json:"ECODE"`
	}
	if err := json.Unmarshal(body, &b); err != nil || b.ECode == "" {
		b.ECode, b.Err = "unknown", strings.TrimSpace(string(body))
	}
	return &AuthError{Provider: "clickup", Status: status, Code: b.ECode, Message: b.Err}
}

// ClickUpAuthorization returns the Authorization header value for a
// ClickUp token: personal tokens (pk_…) are sent bare, OAuth tokens as
// Bearer.
func ClickUpAuthorization(token string) string {
	if strings.HasPrefix(token, "pk_") {
		return token
	}
	return "Bearer " + token
}

// StaticSource returns a source of the provider's stored token for a
// provider whose tokens do not expire and cannot be refreshed (ClickUp).
// It reads the store on each call and never contacts the provider; a
// token stored with [Store.Save] is picked up by the next call. After
// [Store.MarkNeedsReauth] it fails with [ErrNeedsReauth] until then.
func (s *Store) StaticSource(ctx context.Context, provider string) oauth2.TokenSource {
	return staticSource{ctx: ctx, s: s, provider: provider}
}

type staticSource struct {
	ctx      context.Context
	s        *Store
	provider string
}

func (ss staticSource) Token() (*oauth2.Token, error) {
	rec, err := ss.s.Load(ss.ctx, ss.provider)
	if err != nil {
		return nil, err
	}
	if rec.State == StateNeedsReauth {
		return nil, needsReauth(rec)
	}
	return rec.Token, nil
}
