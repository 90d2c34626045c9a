package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/routerlogger/routerlogger/internal/config"
	"github.com/routerlogger/routerlogger/internal/db"
	"github.com/routerlogger/routerlogger/sync/oauth"
	"github.com/routerlogger/routerlogger/sync/rms"
)

func init() {
	commands["oauth"] = command{"authorise RouterLogger at RMS (OAuth), show token states", runOAuth}
}

// defaultRMSAuthBase is where RMS's OAuth endpoints live (its API is on
// another host, ROUTERLOGGER_RMS_URL).
const defaultRMSAuthBase = "https://rms.teltonika-networks.com"

// defaultRMSScopes are what the RMS sync reads: devices, and their daily
// data usage (without the second, data usage answers 403 and the run ends
// partial).
const defaultRMSScopes = "devices:read company_device_statistics:read"

// rmsOAuthConfig is the OAuth settings of RMS. OAuth is on when the client
// id is set; otherwise RMS is reached with the personal access token.
type rmsOAuthConfig struct {
	clientID     *string
	clientSecret *string
	redirectURL  *string
	authBase     *string
	scopes       *string
	secretKey    *string
}

// registerRMSOAuth registers the RMS OAuth settings.
func registerRMSOAuth(f *flags) *rmsOAuthConfig {
	c := f.cfg
	o := &rmsOAuthConfig{
		clientID: c.String("rms-client-id", envs("RMS_CLIENT_ID"), "",
			"RMS OAuth client id; set, RMS is reached by OAuth instead of ROUTERLOGGER_RMS_TOKEN"),
		clientSecret: c.Secret("rms-client-secret", envs("RMS_CLIENT_SECRET"),
			"RMS OAuth client secret (empty for a public client)"),
		redirectURL: c.String("rms-redirect-url", envs("RMS_REDIRECT_URL"), "",
			"the OAuth callback URL registered at RMS, ending in /oauth/rms/callback"),
		authBase: c.URL("rms-auth-url", envs("RMS_AUTH_URL"), defaultRMSAuthBase,
			[]string{"https", "http"}, "base of RMS's /account/authorize and /account/token"),
		scopes: c.String("rms-scopes", envs("RMS_SCOPES"), defaultRMSScopes,
			"OAuth scopes asked of RMS, space-separated"),
		secretKey: c.Secret("secret-key", []string{oauth.SecretKeyEnv},
			"32 bytes, hex or base64 (new,old to rotate): encrypts stored OAuth tokens"),
	}
	f.checks = append(f.checks, o.check)
	return o
}

// enabled reports whether RMS OAuth is configured.
func (o *rmsOAuthConfig) enabled() bool { return *o.clientID != "" }

// check refuses a half-configured OAuth at start, naming what is missing.
func (o *rmsOAuthConfig) check() error {
	if !o.enabled() {
		return nil
	}
	if !strings.HasSuffix(strings.TrimRight(*o.redirectURL, "/"), rmsCallbackPath) {
		reason := "must end in " + rmsCallbackPath + ", the callback `routerlogger serve` answers " +
			"(the URL registered at RMS)"
		if *o.redirectURL == "" {
			reason = "required when ROUTERLOGGER_RMS_CLIENT_ID is set: the callback URL registered at RMS, " +
				"ending in " + rmsCallbackPath
		}
		return &config.Error{Name: "ROUTERLOGGER_RMS_REDIRECT_URL", Value: *o.redirectURL, Reason: reason}
	}
	if u, err := url.Parse(*o.redirectURL); err != nil || u.Host == "" ||
		(u.Scheme != "https" && u.Scheme != "http") {
		return &config.Error{Name: "ROUTERLOGGER_RMS_REDIRECT_URL", Value: *o.redirectURL,
			Reason: "not an absolute http(s) URL"}
	}
	if *o.secretKey == "" {
		return &config.Error{Name: oauth.SecretKeyEnv, Value: "",
			Reason: "required when ROUTERLOGGER_RMS_CLIENT_ID is set: 32 random bytes as hex or base64 " +
				"(openssl rand -hex 32)"}
	}
	if _, err := oauth.ParseKeys(*o.secretKey); err != nil {
		return &config.Error{Name: oauth.SecretKeyEnv, Value: "<redacted>", Reason: err.Error()}
	}
	return nil
}

// flow builds the RMS OAuth flow; nil when OAuth is off. It does no I/O.
func (o *rmsOAuthConfig) flow(pool *pgxpool.Pool, log *slog.Logger,
	reg prometheus.Registerer) (*oauth.Flow, error) {
	if !o.enabled() {
		return nil, nil
	}
	keys, err := oauth.ParseKeys(*o.secretKey)
	if err != nil {
		return nil, err
	}
	return oauth.NewFlow(oauth.Config{
		Provider: "rms", ClientID: *o.clientID, ClientSecret: *o.clientSecret,
		RedirectURL: *o.redirectURL,
		AuthURL:     oauth.RMSAuthURL(*o.authBase), TokenURL: oauth.RMSTokenURL(*o.authBase),
		Scopes: strings.Fields(*o.scopes),
		Logger: log.With("component", "oauth"), Registerer: reg,
	}, oauth.NewStore(pool, keys))
}

const oauthUsage = `oauth start rms     print the URL that authorises RouterLogger at RMS
       routerlogger oauth status        list stored tokens' states (no secrets)`

// runOAuth starts an authorisation or lists token states. The start is a
// command, not a public route, on purpose: whoever completes a started
// flow decides whose RMS account the token belongs to.
func runOAuth(ctx context.Context, e *env, args []string) error {
	if done, err := subcommandHelp(e, args, oauthUsage); done {
		return err
	}
	sub, args := args[0], args[1:]
	switch {
	case sub == "start" && len(args) > 0 && args[0] == "rms":
		args = args[1:]
	case sub == "start":
		fmt.Fprintln(e.stderr, "Usage: routerlogger oauth start rms [flags]   (rms is the one OAuth provider)")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return nil
		}
		return errUsage
	case sub == "status":
	default:
		fmt.Fprintf(e.stderr, "routerlogger oauth: unknown subcommand %q\nUsage: routerlogger %s\n",
			sub, oauthUsage)
		return errUsage
	}

	f := newFlags(e, "oauth "+sub, oauthUsage)
	url := f.databaseURL()
	var o *rmsOAuthConfig
	if sub == "start" { // status reads no secret: it needs no OAuth settings
		o = registerRMSOAuth(f)
	}
	if err := f.parse(args); err != nil {
		return err
	}
	log := f.logger()
	pool, err := openPool(ctx, *url, 2, false)
	if err != nil {
		return err
	}
	defer pool.Close()
	if _, err := db.Migrate(ctx, pool, log, db.TimescaleAuto); err != nil {
		return err
	}

	if sub == "status" {
		return printOAuthStates(ctx, e, pool)
	}
	if !o.enabled() {
		return errors.New("oauth start rms: set ROUTERLOGGER_RMS_CLIENT_ID, ROUTERLOGGER_RMS_REDIRECT_URL " +
			"and ROUTERLOGGER_SECRET_KEY first")
	}
	fl, err := o.flow(pool, log, prometheus.NewRegistry())
	if err != nil {
		return err
	}
	authURL, err := fl.Start(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stderr, "Open this URL within 10 minutes, log in to RMS and consent; "+
		"RMS then sends the browser to the callback served by `routerlogger serve`:")
	fmt.Fprintln(e.stdout, authURL)
	return nil
}

// printOAuthStates prints the view oauth_state.
func printOAuthStates(ctx context.Context, e *env, pool *pgxpool.Pool) error {
	rows, err := pool.Query(ctx, `SELECT provider, state, expires_at, updated_at, coalesce(last_error, '')
		FROM oauth_state ORDER BY provider`)
	if err != nil {
		return fmt.Errorf("read oauth_state: %w", err)
	}
	defer rows.Close()

	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROVIDER\tSTATE\tEXPIRES\tUPDATED\tLAST ERROR")
	for rows.Next() {
		var provider, state, lastErr string
		var expires *time.Time
		var updated time.Time
		if err := rows.Scan(&provider, &state, &expires, &updated, &lastErr); err != nil {
			return err
		}
		exp := "never"
		if expires != nil {
			exp = expires.UTC().Format(lockTime)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", provider, state, exp, updated.UTC().Format(lockTime), lastErr)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return tw.Flush()
}

// rmsCallbackPath is where serve takes RMS's OAuth redirect; the
// registered ROUTERLOGGER_RMS_REDIRECT_URL must end in it.
const rmsCallbackPath = "/oauth/rms/callback"

// mountOAuth mounts the RMS OAuth callback on r when RMS OAuth is
// configured. The flow is the one the RMS sync job uses.
func mountOAuth(sc *syncConfig, pool *pgxpool.Pool, r chi.Router, log *slog.Logger,
	reg prometheus.Registerer) error {
	s, ok := sc.services[rms.JobName].(*rmsSettings)
	if !ok || !s.oauth.enabled() {
		return nil
	}
	flow, err := s.oauthFlow(syncDeps{pool: pool, log: log, reg: reg})
	if err != nil {
		return err
	}
	r.Method(http.MethodGet, rmsCallbackPath, flow.CallbackHandler())
	log.Info("rms oauth callback mounted", "path", rmsCallbackPath)
	return nil
}
