package clickup

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/routerlogger/routerlogger/internal/breaker"
)

// Error is an error answer of the ClickUp API: its HTTP status and the
// {err, ECODE} body.
type Error struct {
	Method string
	Path   string
	Status int
	// Code is the ECODE, such as OAUTH_023 or APP_002.
	Code string
	// Message is the err text.
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("clickup: %s %s: %d %s %s", e.Method, e.Path, e.Status, e.Code, e.Message)
}

// RateLimitError is a request not sent, or refused with 429, because the
// rate limit would have made it wait past the run's deadline (or past the
// client's retries). Wait is how long ClickUp asked to wait.
type RateLimitError struct {
	Wait time.Duration
	Err  error
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("clickup: rate limited for %s: %v", e.Wait, e.Err)
}

func (e *RateLimitError) Unwrap() error { return e.Err }

// errDeadline is the reason of a wait that would outlast the run.
var errDeadline = errors.New("the wait would pass the run's deadline")

// IsAuth reports whether err is an authorization error: a 401 (ECODE
// OAUTH_0xx: token invalid, team not authorized, header missing) or a 403.
// ClickUp tokens do not expire, so the fix is a new token or new rights,
// set by an operator; nothing is retried.
func IsAuth(err error) bool {
	var e *Error
	return errors.As(err, &e) && (e.Status == http.StatusUnauthorized ||
		e.Status == http.StatusForbidden || strings.HasPrefix(e.Code, "OAUTH_"))
}

// RetryAfter returns how long to wait when err is a rate limit, and
// whether it is one.
func RetryAfter(err error) (time.Duration, bool) {
	var e *RateLimitError
	if errors.As(err, &e) {
		return e.Wait, true
	}
	return 0, false
}

// IsNotFound reports whether err is a 404 answer (a task deleted in ClickUp).
func IsNotFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == http.StatusNotFound
}

// IsFieldGone reports whether err says a custom field is unknown: a 400 or
// 404 to a field write whose ECODE starts with FIELD_ or whose text names
// a field (ClickUp documents no single code for it; this is assumed).
func IsFieldGone(err error) bool {
	var e *Error
	if !errors.As(err, &e) || (e.Status != http.StatusBadRequest && e.Status != http.StatusNotFound) {
		return false
	}
	return strings.HasPrefix(e.Code, "FIELD_") ||
		strings.Contains(strings.ToLower(e.Message), "field")
}

// Unsent reports whether err proves the request was not carried out: an
// error answer below 500 (a 429 included), or a request the circuit
// breaker held back. A transport error, a timeout or a 5xx may hide a
// request that did take effect.
func Unsent(err error) bool {
	if errors.Is(err, breaker.ErrOpen) {
		return true
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Status < 500
	}
	_, limited := RetryAfter(err)
	return limited
}
