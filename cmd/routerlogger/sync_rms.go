package main

import (
	"errors"
	"time"

	"golang.org/x/oauth2"

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
	}
}

// configured needs a token.
// TODO(rms): also accept an OAuth client id once sync/oauth lands.
func (s *rmsSettings) configured() error {
	if *s.token == "" {
		return errors.New("ROUTERLOGGER_RMS_TOKEN is not set")
	}
	return nil
}

func (s *rmsSettings) interval() time.Duration { return *s.every }

func (s *rmsSettings) job(d syncDeps) (syncrun.Job, error) {
	return rms.NewJob(rms.JobOptions{
		Pool: d.pool,
		Client: rms.ClientOptions{
			BaseURL:   *s.url,
			Tokens:    oauth2.StaticTokenSource(&oauth2.Token{AccessToken: *s.token}),
			HTTP:      d.http(rms.JobName),
			Attempts:  int(*s.attempts),
			RetryTime: *s.retryTime,
		},
		PageSize:     int(*s.pageSize),
		UsageDays:    int(*s.usageDays),
		MonthlyQuota: *s.quota,
		Logger:       d.log.With("job", rms.JobName),
		Registerer:   d.reg,
	})
}
