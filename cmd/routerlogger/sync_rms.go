package main

import (
	"errors"
	"time"

	"golang.org/x/oauth2"

	"github.com/routerlogger/routerlogger/sync/oauth"
	"github.com/routerlogger/routerlogger/sync/rms"
	"github.com/routerlogger/routerlogger/sync/syncrun"
)

func init() {
	syncServices[rms.JobName] = syncService{
		summary:  "Teltonika RMS: device inventory and daily data usage",
		register: registerRMS,
	}
}

// rmsSettings are the settings of the RMS sync.
type rmsSettings struct {
	url       *string
	token     *string
	quota     *int64
	every     *time.Duration
	pageSize  *int64
	usageDays *int64
	attempts  *int64
	retryTime *time.Duration
	oauth     *rmsOAuthConfig // oauth.go

	// flow is the OAuth flow, built once per process by oauthFlow.
	flow *oauth.Flow
}

// registerRMS registers the RMS settings.
func registerRMS(f *flags) syncSettings {
	c := f.cfg
	return &rmsSettings{
		url: c.URL("rms-url", envs("RMS_URL"), rms.DefaultBaseURL, []string{"https", "http"},
			"RMS API base, before the resource path"),
		token: c.Secret("rms-token", envs("RMS_TOKEN"),
			"RMS personal access token (scopes devices:read, company_device_statistics:read)"),
		quota: c.Int("rms-monthly-quota", envs("RMS_MONTHLY_QUOTA"), 0, 0, 1<<40,
			"RMS requests allowed per calendar month (UTC) across instances; 0: unlimited"),
		every: c.Duration("rms-interval", envs("RMS_INTERVAL"), time.Hour, syncrun.MinInterval,
			7*24*time.Hour, "how often the RMS sync runs"),
		pageSize: c.Int("rms-page-size", envs("RMS_PAGE_SIZE"), rms.DefaultPageSize, 1, 1000,
			"RMS devices per page"),
		usageDays: c.Int("rms-usage-days", envs("RMS_USAGE_DAYS"), 2, 0, 31,
			"recent UTC days of data usage fetched per device and run (0: none)"),
		attempts: c.Int("rms-retry-attempts", envs("RMS_RETRY_ATTEMPTS"), rms.DefaultAttempts, 1, 20,
			"tries of one RMS request that fails transiently (5xx, dropped connection, timeout)"),
		retryTime: c.Duration("rms-retry-time", envs("RMS_RETRY_TIME"), rms.DefaultRetryTime, time.Second,
			time.Hour, "time one run may spend retrying RMS requests"),
		oauth: registerRMSOAuth(f),
	}
}

// configured needs a personal access token or an OAuth client.
func (s *rmsSettings) configured() error {
	if *s.token == "" && !s.oauth.enabled() {
		return errors.New("neither ROUTERLOGGER_RMS_TOKEN nor ROUTERLOGGER_RMS_CLIENT_ID is set")
	}
	return nil
}

// oauthFlow returns the RMS OAuth flow (nil with a personal token), built
// once: serve's callback and the sync job share it.
func (s *rmsSettings) oauthFlow(d syncDeps) (*oauth.Flow, error) {
	if s.flow != nil || !s.oauth.enabled() {
		return s.flow, nil
	}
	f, err := s.oauth.flow(d.pool, d.log, d.reg)
	s.flow = f
	return f, err
}

func (s *rmsSettings) interval() time.Duration { return *s.every }

func (s *rmsSettings) job(d syncDeps) (syncrun.Job, error) {
	client := rms.ClientOptions{
		BaseURL:   *s.url,
		HTTP:      d.http(rms.JobName),
		Attempts:  int(*s.attempts),
		RetryTime: *s.retryTime,
	}
	// OAuth wins when both are set: it is the one that can be renewed.
	flow, err := s.oauthFlow(d)
	switch {
	case err != nil:
		return nil, err
	case flow != nil:
		client.OAuth = flow
	default:
		client.Tokens = oauth2.StaticTokenSource(&oauth2.Token{AccessToken: *s.token})
	}
	return rms.NewJob(rms.JobOptions{
		Pool:         d.pool,
		Client:       client,
		PageSize:     int(*s.pageSize),
		UsageDays:    int(*s.usageDays),
		MonthlyQuota: *s.quota,
		Logger:       d.log.With("job", rms.JobName),
		Registerer:   d.reg,
	})
}
