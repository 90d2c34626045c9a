package rms

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"

	"golang.org/x/oauth2"

	"github.com/routerlogger/routerlogger/sync/oauth"

	"github.com/routerlogger/routerlogger/internal/breaker"
)

// ErrQuota is wrapped by the error of a request refused because it would
// exceed the monthly request quota.
var ErrQuota = errors.New("monthly quota used")

// APIError is an answer of RMS other than 200, or a 200 whose envelope
// says success false. Branch on it with [IsRateLimited], [IsAuth],
// [IsForbidden] and [IsTransient] rather than on the type.
type APIError struct {
	// Status is the HTTP status code.
	Status int
	// Method and Path name the request, without the query.
	Method, Path string
	// Errors are the entries of the errors envelope.
	Errors []ErrorEntry
	// RetryAfter is the wait of a Retry-After header; RMS sends none, but
	// it is honoured when one appears.
	RetryAfter time.Duration
}

// ErrorEntry is one entry of the RMS errors envelope.
type ErrorEntry struct {
	Code    string  `json:"code"`
	Source  *string `json:"source"`
	Message string  `json:"message"`
}

// Error names the request, the status and each code and message.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "rms: %s %s: %d %s", e.Method, e.Path, e.Status, http.StatusText(e.Status))
	for i, x := range e.Errors {
		sep := ", "
		if i == 0 {
			sep = ": "
		}
		b.WriteString(sep + x.Code)
		if x.Source != nil && *x.Source != "" {
			b.WriteString(" (" + *x.Source + ")")
		}
		if x.Message != "" {
			b.WriteString(" " + x.Message)
		}
	}
	return b.String()
}

// TokenError is a failure of the token source: the personal token is
// missing or an OAuth token could not be had. The run cannot go on until
// an operator sets a token or authorises again.
type TokenError struct{ Err error }

// Error says what to do.
func (e *TokenError) Error() string {
	hint := "check ROUTERLOGGER_RMS_TOKEN, or the OAuth settings when ROUTERLOGGER_RMS_CLIENT_ID is set"
	switch {
	case errors.Is(e.Err, oauth.ErrNeedsReauth), errors.Is(e.Err, oauth.ErrNoToken):
		hint = "authorise with `routerlogger oauth start rms`"
	case errors.Is(e.Err, oauth.ErrUnknownKey), errors.Is(e.Err, oauth.ErrDecrypt):
		hint = "the stored token cannot be read with ROUTERLOGGER_SECRET_KEY"
	}
	return fmt.Sprintf("rms: no access token: %v (%s)", e.Err, hint)
}

// Unwrap returns the token source's error.
func (e *TokenError) Unwrap() error { return e.Err }

// NeedsReauthorization reports whether err is a token source error that
// an operator must fix by authorising again (sync/oauth's
// [oauth.ErrNeedsReauth], or an OAuth token endpoint that refused). Every
// token source error fails the run; this only tells the two apart.
func NeedsReauthorization(err error) bool {
	var te *TokenError
	if !errors.As(err, &te) {
		return false
	}
	var re *oauth2.RetrieveError
	return errors.As(err, &re) || errors.Is(err, oauth.ErrNeedsReauth)
}

// IsRateLimited reports whether RMS answered 429.
func IsRateLimited(err error) bool { return status(err) == http.StatusTooManyRequests }

// IsAuth reports whether the request was not authenticated: a 401, or no
// token from the token source. Never retried.
func IsAuth(err error) bool {
	var te *TokenError
	return status(err) == http.StatusUnauthorized || errors.As(err, &te)
}

// IsForbidden reports whether RMS answered 403: the token lacks a scope.
func IsForbidden(err error) bool { return status(err) == http.StatusForbidden }

// IsQuota reports whether the request was refused by the monthly quota.
func IsQuota(err error) bool { return errors.Is(err, ErrQuota) }

// IsTransient reports whether err is worth retrying within a run: a 5xx,
// a dropped connection or a timeout. 4xx answers, an open breaker, the
// quota and a cancelled run are not.
func IsTransient(err error) bool {
	if err == nil || errors.Is(err, breaker.ErrOpen) || errors.Is(err, context.Canceled) ||
		IsQuota(err) {
		return false
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status >= 500
	}
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout(),
		errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.EPIPE):
		return true
	}
	var ce *connError
	return errors.As(err, &ce)
}

// RetryAfter returns the Retry-After of a 429, or 0.
func RetryAfter(err error) time.Duration {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.RetryAfter
	}
	return 0
}

// connError marks a transport failure (the request may not have reached
// RMS, or its answer was cut off).
type connError struct{ err error }

func (e *connError) Error() string { return e.err.Error() }
func (e *connError) Unwrap() error { return e.err }

func status(err error) int {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}
