package bench

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/routerlogger/routerlogger/ingest/reading"
)

// httpSingleScenario runs the HTTP API and has SingleClients clients post
// one reading per request, each answered only once committed: group
// commit in the writer is what lets many such requests share a
// transaction.
func httpSingleScenario(ctx context.Context, pool *pgxpool.Pool, rs []reading.Reading,
	opt Options) (Scenario, error) {
	stats := newWriterStats()
	srv, tok, stop, err := startHTTP(ctx, pool, opt, stats.reg)
	if err != nil {
		return Scenario{}, err
	}
	defer stop()

	shares := shareByRouter(rs, opt.SingleClients)
	bodies := make([][][]byte, len(shares))
	for k, share := range shares {
		for _, i := range share {
			b, err := json.Marshal(wire(&rs[i]))
			if err != nil {
				return Scenario{}, err
			}
			bodies[k] = append(bodies[k], b)
		}
	}

	clients := make([]*rawClient, len(bodies))
	for k := range clients {
		if clients[k], err = dialRaw(srv.URL, "/api/v1/telemetry", tok, "application/json"); err != nil {
			return Scenario{}, err
		}
		defer clients[k].close()
	}

	lats := make([][]time.Duration, len(bodies))
	errs := make([]error, len(bodies))
	var wg sync.WaitGroup
	start := time.Now()
	for k := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lats[k] = make([]time.Duration, 0, len(bodies[k]))
			for _, body := range bodies[k] {
				t0 := time.Now()
				if errs[k] = clients[k].post(body); errs[k] != nil {
					return
				}
				lats[k] = append(lats[k], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := errors.Join(errs...); err != nil {
		return Scenario{}, err
	}

	if err := checkStored(ctx, pool, len(rs)); err != nil {
		return Scenario{}, err
	}
	var lat []time.Duration
	for _, l := range lats {
		lat = append(lat, l...)
	}
	return stats.fill(figure(ScenarioHTTPSingle, len(rs), elapsed, lat)), nil
}

// shareByRouter deals the routers of rs round-robin to n senders; each
// sender gets the indexes of all readings of its routers, in the order of
// rs (time order), as a router or a gateway sends them.
func shareByRouter(rs []reading.Reading, n int) [][]int {
	owner := map[string]int{}
	shares := make([][]int, n)
	for i := range rs {
		k, ok := owner[rs[i].DeviceID]
		if !ok {
			k = len(owner) % n
			owner[rs[i].DeviceID] = k
		}
		shares[k] = append(shares[k], i)
	}
	return shares
}
