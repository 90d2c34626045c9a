// Package plugin is the backend of the RouterLogger Grafana datasource. It
// answers every query type of [QueryTypes] from RouterLogger's PostgreSQL
// views, read-only and as the routerlogger_reader role, and reports health
// and the editor's resources.
//
// Each query runs in its own READ ONLY transaction with a statement
// timeout and a row limit, on a pool of at most maxOpenConns connections.
// Identical queries within cacheTTLSeconds are answered from memory, and
// identical queries in flight at once share one database round trip.
//
// Grafana should connect as a login role of its own that is a member of
// routerlogger_reader and nothing else. Roles are cluster-wide, so the
// operator creates it once per server:
//
//	CREATE ROLE routerlogger_grafana LOGIN PASSWORD '...' IN ROLE routerlogger_reader;
//
// The health check refuses a superuser and a role outside the reader role.
package plugin

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/datasource"
	"github.com/grafana/grafana-plugin-sdk-go/backend/instancemgmt"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/routerlogger/routerlogger/grafana-plugin/pkg/models"
)

// ID is the plugin id, as in plugin.json.
const ID = "routerlogger-fleet-datasource"

// The interfaces Grafana calls, checked at compile time.
var (
	_ backend.QueryDataHandler       = (*Datasource)(nil)
	_ backend.CheckHealthHandler     = (*Datasource)(nil)
	_ backend.CallResourceHandler    = (*Datasource)(nil)
	_ instancemgmt.InstanceDisposer  = (*Datasource)(nil)
	_ datasource.InstanceFactoryFunc = NewDatasource
)

// Options change how a [Datasource] behaves, for tests; the zero value is
// what Grafana gets.
type Options struct {
	// Now tells the time for "online" and the alert queries; nil means
	// time.Now.
	Now func() time.Time
	// Logger receives the plugin's log lines; nil means Grafana's logger.
	Logger log.Logger
}

// Datasource is one configured RouterLogger datasource. It is safe for
// concurrent use.
type Datasource struct {
	settings    models.Settings
	settingsErr error // bad settings: every query and the health check report it
	pool        *pgxpool.Pool
	cache       *cache
	resources   backend.CallResourceHandler
	now         func() time.Time
	log         log.Logger

	dbQueries atomic.Int64 // queries that went to the database

	tsOnce  sync.Mutex // guards tsKnown and tsValue
	tsKnown bool
	tsValue bool // TimescaleDB is installed
}

// Stats are counters of a [Datasource] since it was created.
type Stats struct {
	// DBQueries is the number of queries sent to the database.
	DBQueries int64
	// CacheHits is the number of queries answered from the cache.
	CacheHits int64
	// Shared is the number of queries that waited for an identical query
	// already in flight and took its answer.
	Shared int64
	// PoolConns is the number of open pool connections now, and
	// PoolMaxConns the pool's limit.
	PoolConns    int32
	PoolMaxConns int32
}

// NewDatasource is the instance factory Grafana calls through
// datasource.Manage. Bad settings do not fail it: the datasource then
// answers every query and health check with the settings error, so that a
// person sees what to fix.
func NewDatasource(ctx context.Context, s backend.DataSourceInstanceSettings) (instancemgmt.Instance, error) {
	return New(ctx, s, Options{})
}

// New is [NewDatasource] with options.
func New(_ context.Context, s backend.DataSourceInstanceSettings, opts Options) (*Datasource, error) {
	d := &Datasource{now: opts.Now, log: opts.Logger}
	if d.now == nil {
		d.now = time.Now
	}
	if d.log == nil {
		d.log = backend.Logger
	}
	d.resources = newResourceHandler(d)

	settings, err := models.LoadSettings(s)
	if err != nil {
		d.settingsErr = fmt.Errorf("datasource settings: %w", err)
		return d, nil
	}
	d.settings = settings
	d.cache = newCache(settings.CacheTTL())

	pool, err := newPool(settings)
	if err != nil {
		d.settingsErr = fmt.Errorf("datasource settings: %w", err)
		return d, nil
	}
	d.pool = pool
	return d, nil
}

// Dispose closes the pool; Grafana calls it when the settings change or
// the datasource is deleted.
func (d *Datasource) Dispose() {
	if d.pool != nil {
		d.pool.Close()
	}
}

// Stats returns the datasource's counters.
func (d *Datasource) Stats() Stats {
	st := Stats{DBQueries: d.dbQueries.Load()}
	if d.cache != nil {
		st.CacheHits, st.Shared = d.cache.hits.Load(), d.cache.shared.Load()
	}
	if d.pool != nil {
		ps := d.pool.Stat()
		st.PoolConns, st.PoolMaxConns = ps.TotalConns(), ps.MaxConns()
	}
	return st
}

// QueryData answers every query of the request, concurrently. A query
// that fails has its error in its own response; QueryData itself fails
// only when Grafana sent no request.
func (d *Datasource) QueryData(ctx context.Context,
	req *backend.QueryDataRequest) (*backend.QueryDataResponse, error) {
	if req == nil {
		return nil, errors.New("query data: no request")
	}

	resp := backend.NewQueryDataResponse()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, q := range req.Queries {
		wg.Go(func() {
			r := d.query(ctx, q)
			mu.Lock()
			resp.Responses[q.RefID] = r
			mu.Unlock()
		})
	}
	wg.Wait()
	return resp, nil
}

// query answers one query, from the cache when it can.
func (d *Datasource) query(ctx context.Context, q backend.DataQuery) backend.DataResponse {
	if d.settingsErr != nil {
		return errorResponse(backend.StatusBadRequest, backend.ErrorSourceDownstream, d.settingsErr)
	}
	qt, ok := lookupQueryType(q.QueryType)
	if !ok {
		err := fmt.Errorf("queryType %q: unknown; want one of %s", q.QueryType, queryTypeNames())
		return errorResponse(backend.StatusBadRequest, backend.ErrorSourceDownstream, err)
	}
	run, err := qt.prepare(q)
	if err != nil {
		return errorResponse(backend.StatusBadRequest, backend.ErrorSourceDownstream,
			fmt.Errorf("%s query: %w", qt.Name, err))
	}

	key, err := cacheKey(q)
	if err != nil {
		return errorResponse(backend.StatusBadRequest, backend.ErrorSourceDownstream, err)
	}
	frames, err := d.cache.get(ctx, key, func(ctx context.Context) (data.Frames, error) {
		d.dbQueries.Add(1)
		return run(ctx, d)
	})
	if err != nil {
		return d.queryError(ctx, qt.Name, err)
	}
	return backend.DataResponse{Frames: withRefID(frames, q.RefID)}
}

// withRefID returns shallow copies of frames carrying refID, so that
// frames shared through the cache are never written to.
func withRefID(frames data.Frames, refID string) data.Frames {
	out := make(data.Frames, len(frames))
	for i, f := range frames {
		c := *f
		c.RefID = refID
		out[i] = &c
	}
	return out
}

// errorResponse is a per-query error.
func errorResponse(status backend.Status, src backend.ErrorSource, err error) backend.DataResponse {
	return backend.DataResponse{Error: err, Status: status, ErrorSource: src}
}
