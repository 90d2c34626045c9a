package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SignatureHeader carries the delivery's signature:
// "t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">". Several v1
// entries may be sent (for secret rotation); one must match.
const SignatureHeader = "X-RouterLogger-Signature"

// DefaultWindow is how far a signature's timestamp may lie from now.
const DefaultWindow = 5 * time.Minute

// ErrSignature is wrapped by every signature refusal.
var ErrSignature = errors.New("signature refused")

// Sign returns the SignatureHeader value for body signed at t.
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + mac256(secret, ts, body)
}

// Verify checks header against body and secret, and that its timestamp
// lies within window of now. Errors wrap [ErrSignature] and say why.
func Verify(header string, body, secret []byte, now time.Time, window time.Duration) error {
	if strings.TrimSpace(header) == "" {
		return fmt.Errorf("%w: missing %s header", ErrSignature, SignatureHeader)
	}
	ts, macs, err := splitHeader(header)
	if err != nil {
		return err
	}

	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %s t=%q is not unix seconds", ErrSignature, SignatureHeader, ts)
	}
	skew := now.Sub(time.Unix(sec, 0))
	if skew > window || skew < -window {
		return fmt.Errorf("%w: timestamp t=%d is %s from the server clock, outside the %s window "+
			"(replayed delivery or clock skew)", ErrSignature, sec, skew.Abs().Round(time.Second), window)
	}

	want := mac256(secret, ts, body)
	for _, m := range macs {
		if hmac.Equal([]byte(strings.ToLower(m)), []byte(want)) {
			return nil
		}
	}
	return fmt.Errorf("%w: no v1 signature matches the body (wrong secret or altered body)",
		ErrSignature)
}

// splitHeader returns the t value and the v1 values of header.
func splitHeader(header string) (string, []string, error) {
	var ts string
	var macs []string
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			macs = append(macs, v)
		}
	}
	if ts == "" || len(macs) == 0 {
		return "", nil, fmt.Errorf("%w: %s must be t=<unix seconds>,v1=<hex hmac-sha256>",
			ErrSignature, SignatureHeader)
	}
	return ts, macs, nil
}

// mac256 returns the hex HMAC-SHA256 of "<ts>.<body>".
func mac256(secret []byte, ts string, body []byte) string {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(ts))
	h.Write([]byte{'.'})
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}
