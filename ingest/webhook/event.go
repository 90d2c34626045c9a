package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/routerlogger/routerlogger/internal/mac"
	"github.com/routerlogger/routerlogger/internal/timeparse"
)

// The event types that open and close a session. Other types (vouchers
// and whatever the portal adds) are stored and count towards nothing.
const (
	TypeRegistrationCompleted = "registration_completed"
	TypeFreeAccessGranted     = "free_access_granted"
	TypeGuestLogin            = "guest_login"
	TypeGuestLogout           = "guest_logout"
	TypeSessionExpired        = "session_expired"
)

// IsStart reports whether an event of type t starts a session.
func IsStart(t string) bool {
	return t == TypeRegistrationCompleted || t == TypeFreeAccessGranted || t == TypeGuestLogin
}

// IsEnd reports whether an event of type t ends a session.
func IsEnd(t string) bool { return t == TypeGuestLogout || t == TypeSessionExpired }

// Event is one validated captive-portal delivery. MACs are canonical
// (AA:BB:CC:DD:EE:FF) and At is in UTC.
type Event struct {
	Type      string
	SessionID string
	GuestMAC  string
	RouterMAC string // empty when the delivery has none
	At        time.Time
	Username  string
	Email     string
	Name      string
	// Duration is session_duration in seconds, nil when absent.
	Duration *int32
	// Extra holds the fields the schema does not name, as a JSON object.
	Extra json.RawMessage
}

// FieldError says why a delivery was refused. Malformed means the body is
// not a JSON object at all (400); otherwise a field broke a rule (422).
type FieldError struct {
	Field     string
	Reason    string
	Malformed bool
}

// Error returns the field and the reason.
func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Reason
	}
	return e.Field + ": " + e.Reason
}

// known are the fields Event names; everything else goes to Extra.
var known = map[string]bool{"type": true, "session_id": true, "mac_address": true,
	"router_mac": true, "timestamp": true, "username": true, "email": true, "name": true,
	"session_duration": true}

// Parse decodes and validates one delivery. A refused delivery returns a
// *FieldError.
func Parse(body []byte) (Event, error) {
	obj, ferr := decodeObject(body)
	if ferr != nil {
		return Event{}, ferr
	}
	if ferr := validateSchema(obj); ferr != nil {
		return Event{}, ferr
	}
	return build(obj)
}

// decodeObject decodes body as exactly one JSON object, numbers kept
// exact.
func decodeObject(body []byte) (map[string]any, *FieldError) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, &FieldError{Reason: "body is not valid JSON: " + err.Error(), Malformed: true}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, &FieldError{Reason: "body holds more than one JSON value; send one event " +
			"per request", Malformed: true}
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, &FieldError{Reason: fmt.Sprintf("body is a JSON %s, want an object", jsonKind(v)),
			Malformed: true}
	}
	return obj, nil
}

// build turns a schema-valid object into an Event.
func build(obj map[string]any) (Event, error) {
	ev := Event{
		Type:      strings.TrimSpace(str(obj["type"])),
		SessionID: strings.TrimSpace(str(obj["session_id"])),
		Username:  str(obj["username"]),
		Email:     strings.TrimSpace(str(obj["email"])),
		Name:      str(obj["name"]),
	}
	if ev.Type == "" || ev.SessionID == "" {
		field := "type"
		if ev.Type != "" {
			field = "session_id"
		}
		return Event{}, &FieldError{Field: field, Reason: "must not be blank"}
	}

	var err error
	if ev.GuestMAC, err = mac.Parse(str(obj["mac_address"])); err != nil {
		return Event{}, &FieldError{Field: "mac_address", Reason: err.Error()}
	}
	if rm := str(obj["router_mac"]); strings.TrimSpace(rm) != "" {
		if ev.RouterMAC, err = mac.Parse(rm); err != nil {
			return Event{}, &FieldError{Field: "router_mac", Reason: err.Error()}
		}
	}
	if ev.At, err = timeparse.Parse(str(obj["timestamp"])); err != nil {
		return Event{}, &FieldError{Field: "timestamp", Reason: err.Error()}
	}
	ev.At = ev.At.UTC()

	if n, ok := obj["session_duration"].(json.Number); ok {
		d, err := n.Int64()
		if err != nil {
			return Event{}, &FieldError{Field: "session_duration", Reason: "not a whole number"}
		}
		d32 := int32(d) // the schema bounds it to 0..2^31-1
		ev.Duration = &d32
	}

	ev.Extra, err = extra(obj)
	return ev, err
}

// extra returns the unnamed fields of obj as a JSON object.
func extra(obj map[string]any) (json.RawMessage, error) {
	rest := map[string]any{}
	for k, v := range obj {
		if !known[k] {
			rest[k] = v
		}
	}
	b, err := json.Marshal(rest)
	if err != nil {
		return nil, &FieldError{Reason: "re-encode extra fields: " + err.Error(), Malformed: true}
	}
	return b, nil
}

// str returns v when it is a string, else "".
func str(v any) string {
	s, _ := v.(string)
	return s
}

// jsonKind names the JSON type of a decoded value.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	default:
		return "value"
	}
}
