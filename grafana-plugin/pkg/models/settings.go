// Package models parses the RouterLogger datasource's settings: the
// jsonData a person enters on the datasource page (or provisions), and the
// password, which is read only from Grafana's decrypted secure JSON.
package models

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

// The defaults of [Settings], used for fields left out of jsonData.
const (
	DefaultHost                = "127.0.0.1:5432"
	DefaultDatabase            = "routerlogger"
	DefaultUser                = "routerlogger_grafana"
	DefaultSSLMode             = "disable"
	DefaultQueryTimeoutSeconds = 10
	DefaultMaxRows             = 10000
	DefaultMaxOpenConns        = 10
	DefaultCacheTTLSeconds     = 10
	DefaultOfflineAfterMinutes = 30
)

// defaultPort is PostgreSQL's port, used when host names none.
const defaultPort = "5432"

// SSLModes are the values sslmode accepts, as libpq defines them.
var SSLModes = []string{"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}

// Settings are the datasource's settings after defaults and validation.
type Settings struct {
	// Host is "host:port" of the PostgreSQL server; a missing port means 5432.
	Host string `json:"host"`
	// Database is the database holding the RouterLogger schema.
	Database string `json:"database"`
	// User is the login role; it should be a member of routerlogger_reader
	// and of nothing else.
	User string `json:"user"`
	// SSLMode is libpq's sslmode, one of [SSLModes].
	SSLMode string `json:"sslmode"`
	// QueryTimeoutSeconds bounds every statement (1 to 300).
	QueryTimeoutSeconds int `json:"queryTimeoutSeconds"`
	// MaxRows caps the rows one query reads (1 to 1000000).
	MaxRows int `json:"maxRows"`
	// MaxOpenConns caps the plugin's connections (1 to 100).
	MaxOpenConns int `json:"maxOpenConns"`
	// CacheTTLSeconds is how long identical queries are answered from
	// memory (0, meaning no cache, to 3600).
	CacheTTLSeconds int `json:"cacheTTLSeconds"`
	// OfflineAfterMinutes is how long a router may be silent before it
	// counts as offline (1 to 10080).
	OfflineAfterMinutes int `json:"offlineAfterMinutes"`

	// Password comes from the decrypted secure JSON only; never logged.
	Password string `json:"-"`
}

// LoadSettings parses the instance settings, fills in defaults and checks
// every value. Numbers may be JSON numbers or strings, depending on how
// the settings were entered. The error names the first bad field and why.
func LoadSettings(s backend.DataSourceInstanceSettings) (Settings, error) {
	raw := map[string]json.RawMessage{}
	if len(bytes.TrimSpace(s.JSONData)) > 0 {
		if err := json.Unmarshal(s.JSONData, &raw); err != nil {
			return Settings{}, fmt.Errorf("datasource jsonData: %w", err)
		}
	}

	out := Settings{Password: s.DecryptedSecureJSONData["password"]}
	texts := []struct {
		name string
		dst  *string
		def  string
	}{
		{"host", &out.Host, DefaultHost},
		{"database", &out.Database, DefaultDatabase},
		{"user", &out.User, DefaultUser},
		{"sslmode", &out.SSLMode, DefaultSSLMode},
	}
	for _, f := range texts {
		if err := textField(raw, f.name, f.dst, f.def); err != nil {
			return Settings{}, err
		}
	}
	numbers := []struct {
		name string
		dst  *int
		def  int
	}{
		{"queryTimeoutSeconds", &out.QueryTimeoutSeconds, DefaultQueryTimeoutSeconds},
		{"maxRows", &out.MaxRows, DefaultMaxRows},
		{"maxOpenConns", &out.MaxOpenConns, DefaultMaxOpenConns},
		{"cacheTTLSeconds", &out.CacheTTLSeconds, DefaultCacheTTLSeconds},
		{"offlineAfterMinutes", &out.OfflineAfterMinutes, DefaultOfflineAfterMinutes},
	}
	for _, f := range numbers {
		if err := intField(raw, f.name, f.dst, f.def); err != nil {
			return Settings{}, err
		}
	}

	if err := out.validate(); err != nil {
		return Settings{}, err
	}
	return out, nil
}

// validate checks every field and normalises Host to host:port.
func (s *Settings) validate() error {
	host, port, err := splitHost(s.Host)
	if err != nil {
		return err
	}
	s.Host = net.JoinHostPort(host, port)

	if !slices.Contains(SSLModes, s.SSLMode) {
		return fmt.Errorf("sslmode %q: want one of %s", s.SSLMode, strings.Join(SSLModes, ", "))
	}

	ranges := []struct {
		name     string
		v        int
		min, max int
	}{
		{"queryTimeoutSeconds", s.QueryTimeoutSeconds, 1, 300},
		{"maxRows", s.MaxRows, 1, 1_000_000},
		{"maxOpenConns", s.MaxOpenConns, 1, 100},
		{"cacheTTLSeconds", s.CacheTTLSeconds, 0, 3600},
		{"offlineAfterMinutes", s.OfflineAfterMinutes, 1, 10080},
	}
	for _, r := range ranges {
		if r.v < r.min || r.v > r.max {
			return fmt.Errorf("%s %d: out of range (allowed %d to %d)", r.name, r.v, r.min, r.max)
		}
	}
	return nil
}

// splitHost splits "host:port", "host" or "[v6]:port" and checks the port.
func splitHost(hostPort string) (host, port string, err error) {
	host, port, err = net.SplitHostPort(hostPort)
	if err != nil {
		// No port: the whole value is the host (an IPv6 address needs brackets).
		host, port = strings.Trim(hostPort, "[]"), defaultPort
	}
	if host == "" || strings.ContainsAny(host, " /") {
		return "", "", fmt.Errorf("host %q: want host:port, such as %s", hostPort, DefaultHost)
	}
	n, perr := strconv.Atoi(port)
	if perr != nil || n < 1 || n > 65535 {
		return "", "", fmt.Errorf("host %q: port %q is not a number from 1 to 65535", hostPort, port)
	}
	return host, port, nil
}

// HostName returns the host part of Host.
func (s Settings) HostName() string {
	h, _, _ := net.SplitHostPort(s.Host)
	return h
}

// Port returns the port of Host.
func (s Settings) Port() uint16 {
	_, p, _ := net.SplitHostPort(s.Host)
	n, _ := strconv.Atoi(p)
	return uint16(n)
}

// QueryTimeout returns QueryTimeoutSeconds as a duration.
func (s Settings) QueryTimeout() time.Duration {
	return time.Duration(s.QueryTimeoutSeconds) * time.Second
}

// CacheTTL returns CacheTTLSeconds as a duration; zero means no cache.
func (s Settings) CacheTTL() time.Duration {
	return time.Duration(s.CacheTTLSeconds) * time.Second
}

// OfflineAfter returns OfflineAfterMinutes as a duration.
func (s Settings) OfflineAfter() time.Duration {
	return time.Duration(s.OfflineAfterMinutes) * time.Minute
}

// textField sets dst to the trimmed string raw[name], or def when it is
// missing, null or blank.
func textField(raw map[string]json.RawMessage, name string, dst *string, def string) error {
	*dst = def
	v, ok := raw[name]
	if !ok || string(bytes.TrimSpace(v)) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return fmt.Errorf("%s %s: want a string", name, v)
	}
	if s = strings.TrimSpace(s); s != "" {
		*dst = s
	}
	return nil
}

// intField sets dst to the whole number raw[name], given as a JSON number
// or a string, or def when it is missing, null or blank.
func intField(raw map[string]json.RawMessage, name string, dst *int, def int) error {
	*dst = def
	v, ok := raw[name]
	if !ok {
		return nil
	}
	s := strings.TrimSpace(string(v))
	if unq, err := strconv.Unquote(s); err == nil {
		s = strings.TrimSpace(unq)
	}
	if s == "" || s == "null" {
		return nil
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || n != math.Trunc(n) || math.Abs(n) > 1e9 {
		return fmt.Errorf("%s %s: want a whole number", name, v)
	}
	*dst = int(n)
	return nil
}
