package main

import (
	"errors"
	"strings"
	"time"

	"github.com/routerlogger/routerlogger/sync/geo"
	"github.com/routerlogger/routerlogger/sync/syncrun"
)

func init() {
	syncServices[geo.Name] = syncService{
		summary:  "locate routers by their serving cell (Unwired Labs process API)",
		register: registerGeo,
	}
}

// geoSettings are the settings of the geolocation sync.
type geoSettings struct {
	url         *string
	key         *string
	every       *time.Duration
	foundTTL    *time.Duration
	notFoundTTL *time.Duration
	moveM       *int64
}

// registerGeo registers the geolocation settings.
func registerGeo(f *flags) syncSettings {
	c := f.cfg
	return &geoSettings{
		url: c.URL("geo-url", envs("GEO_URL"), geo.DefaultURL, []string{"https", "http"},
			"geolocation provider's process endpoint (Unwired Labs: us1, us2, eu1 or ap1)"),
		key: c.Secret("geo-key", envs("GEO_KEY"),
			"geolocation provider API token; the geo job runs only when it is set"),
		every: c.Duration("geo-interval", envs("GEO_INTERVAL"), time.Hour, syncrun.MinInterval,
			7*24*time.Hour, "how often routers are located"),
		foundTTL: c.Duration("geo-cache-found-ttl", envs("GEO_CACHE_FOUND_TTL"), geo.DefaultFoundTTL,
			time.Minute, 365*24*time.Hour, "how long a located cell is used before it is asked again"),
		notFoundTTL: c.Duration("geo-cache-not-found-ttl", envs("GEO_CACHE_NOT_FOUND_TTL"),
			geo.DefaultNotFoundTTL, time.Minute, 365*24*time.Hour,
			"how long a cell unknown to the provider is not asked again"),
		moveM: c.Int("geo-move-threshold-m", envs("GEO_MOVE_THRESHOLD_M"),
			int64(geo.DefaultMoveThresholdM), 1, 1_000_000,
			"metres a router must move from its last recorded location to get a history row"),
	}
}

func (s *geoSettings) configured() error {
	switch {
	case strings.TrimSpace(*s.key) == "":
		return errors.New("ROUTERLOGGER_GEO_KEY is not set")
	case *s.url == "":
		return errors.New("ROUTERLOGGER_GEO_URL is empty")
	}
	return nil
}

func (s *geoSettings) interval() time.Duration { return *s.every }

func (s *geoSettings) job(d syncDeps) (syncrun.Job, error) {
	client := geo.NewClient(geo.ClientOptions{URL: *s.url, Key: strings.TrimSpace(*s.key),
		HTTP: d.http(geo.Name)})
	return geo.New(d.pool, geo.Config{
		Client:   client,
		FoundTTL: *s.foundTTL, NotFoundTTL: *s.notFoundTTL,
		MoveThresholdM: float64(*s.moveM),
		Logger:         d.log, Registerer: d.reg,
	})
}
