package oauth

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/oauth2"
	"golang.org/x/sync/singleflight"
)

// Defaults of [Config].
const (
	DefaultSkew           = time.Minute
	DefaultVerifierTTL    = 10 * time.Minute
	DefaultRefreshTimeout = 30 * time.Second
)

// RMSAuthURL and RMSTokenURL return Teltonika RMS's OAuth endpoints under
// base, for example https://rms.teltonika-networks.com.
func RMSAuthURL(base string) string { return base + "/account/authorize" }

// RMSTokenURL returns the token endpoint of RMS under base; see [RMSAuthURL].
func RMSTokenURL(base string) string { return base + "/account/token" }

// Config configures a [Flow]. Provider, ClientID, RedirectURL, AuthURL and
// TokenURL are required; there are deliberately no default URLs, so that
// nothing is sent to a real provider unless it is configured.
type Config struct {
	Provider     string // key in oauth_tokens, such as "rms"
	ClientID     string
	ClientSecret string // may be empty for a public client (PKCE alone)
	RedirectURL  string // the public URL of [Flow.CallbackHandler]
	AuthURL      string
	TokenURL     string
	Scopes       []string
	// AuthStyle is how the client authenticates at the token endpoint
	// (default: client_id and client_secret in the form body). Never
	// auto-detect: that retries a failed refresh with a used token.
	AuthStyle oauth2.AuthStyle
	// HTTPClient reaches the token endpoint (default: one with a
	// RefreshTimeout timeout).
	HTTPClient *http.Client
	// Skew is how long before expiry a token is refreshed (DefaultSkew).
	Skew time.Duration
	// VerifierTTL is how long a started authorisation may take
	// (DefaultVerifierTTL).
	VerifierTTL time.Duration
	// RefreshTimeout bounds one refresh, lock wait included
	// (DefaultRefreshTimeout).
	RefreshTimeout time.Duration
	// Logger receives refresh and authorisation events (slog.Default()).
	Logger *slog.Logger
	// Registerer, when set, receives the refresh metrics.
	Registerer prometheus.Registerer
}

// Flow runs the OAuth 2 authorisation-code flow with PKCE for one provider
// and hands out its access token, refreshing it when needed. It is safe
// for concurrent use.
type Flow struct {
	cfg     Config
	oc      *oauth2.Config
	store   *Store
	log     *slog.Logger
	metrics *metrics
	group   singleflight.Group

	mu     sync.Mutex
	cached *oauth2.Token // the last token handed out, while it is fresh
}

// NewFlow checks cfg, fills in its defaults and returns a flow that keeps
// its tokens in store. It does no I/O; it fails if the metrics cannot be
// registered.
func NewFlow(cfg Config, store *Store) (*Flow, error) {
	if cfg.Provider == "" || cfg.ClientID == "" || cfg.RedirectURL == "" ||
		cfg.AuthURL == "" || cfg.TokenURL == "" {
		return nil, errors.New("oauth: config needs Provider, ClientID, RedirectURL, AuthURL" +
			" and TokenURL")
	}
	if store == nil {
		return nil, errors.New("oauth: flow needs a store")
	}

	cfg = withDefaults(cfg)
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}

	f := &Flow{
		cfg: cfg,
		oc: &oauth2.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret,
			RedirectURL:  cfg.RedirectURL,
			Scopes:       cfg.Scopes,
			Endpoint: oauth2.Endpoint{AuthURL: cfg.AuthURL, TokenURL: cfg.TokenURL,
				AuthStyle: cfg.AuthStyle},
		},
		store:   store,
		log:     cfg.Logger.With("provider", cfg.Provider),
		metrics: m,
	}
	return f, nil
}

// withDefaults fills in the zero fields of cfg.
func withDefaults(cfg Config) Config {
	if cfg.AuthStyle == oauth2.AuthStyleAutoDetect {
		cfg.AuthStyle = oauth2.AuthStyleInParams
	}
	if cfg.Skew <= 0 {
		cfg.Skew = DefaultSkew
	}
	if cfg.VerifierTTL <= 0 {
		cfg.VerifierTTL = DefaultVerifierTTL
	}
	if cfg.RefreshTimeout <= 0 {
		cfg.RefreshTimeout = DefaultRefreshTimeout
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: cfg.RefreshTimeout}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return cfg
}

// httpContext returns ctx carrying the HTTP client for package oauth2.
func (f *Flow) httpContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, f.cfg.HTTPClient)
}
