// Package bench measures ingest throughput against the ceiling of the
// database: raw CopyFrom of the same rows into the same table, in the same
// run, so that the ratio means something on any machine. Each scenario
// gets its own scratch database on the given server, dropped afterwards.
package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/routerlogger/routerlogger/ingest/httpapi"
	"github.com/routerlogger/routerlogger/ingest/reading"
	"github.com/routerlogger/routerlogger/ingest/tokens"
	"github.com/routerlogger/routerlogger/ingest/writer"
	"github.com/routerlogger/routerlogger/internal/db"
)

// Options size a bench run.
type Options struct {
	// DSN is a server connection with the right to create databases.
	DSN       string
	Routers   int // default 500
	PerRouter int // readings per router, default 100
	Batch     int // readings per HTTP request and per copy chunk, default 1000
	Clients   int // concurrent HTTP clients, default 4
	Log       *slog.Logger
}

// Scenario is the figure of one way of ingesting the same readings.
type Scenario struct {
	Name        string  `json:"name"`
	Samples     int     `json:"samples"`
	Seconds     float64 `json:"seconds"`
	SamplesPerS float64 `json:"samples_per_s"`
	P50ms       float64 `json:"p50_ms"`
	P99ms       float64 `json:"p99_ms"`
	RatioToCopy float64 `json:"ratio_to_copy"`
}

// Report is the result of [Run].
type Report struct {
	Scenarios []Scenario `json:"scenarios"`
}

func (o *Options) defaults() {
	if o.Routers <= 0 {
		o.Routers = 500
	}
	if o.PerRouter <= 0 {
		o.PerRouter = 100
	}
	if o.Batch <= 0 {
		o.Batch = 1000
	}
	if o.Clients <= 0 {
		o.Clients = 4
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
}

// Run measures the copy ceiling and batched HTTP ingest.
func Run(ctx context.Context, opt Options) (Report, error) {
	opt.defaults()
	rs := Readings(opt.Routers, opt.PerRouter, time.Now().Add(-24*time.Hour))

	copyFig, err := withScratch(ctx, opt.DSN, func(pool *pgxpool.Pool) (Scenario, error) {
		return copyScenario(ctx, pool, rs, opt.Batch)
	})
	if err != nil {
		return Report{}, fmt.Errorf("bench copy: %w", err)
	}
	httpFig, err := withScratch(ctx, opt.DSN, func(pool *pgxpool.Pool) (Scenario, error) {
		return httpScenario(ctx, pool, rs, opt)
	})
	if err != nil {
		return Report{}, fmt.Errorf("bench http_batch: %w", err)
	}

	httpFig.RatioToCopy = httpFig.SamplesPerS / copyFig.SamplesPerS
	copyFig.RatioToCopy = 1
	return Report{Scenarios: []Scenario{copyFig, httpFig}}, nil
}

// Readings returns perRouter readings of each of n routers, one a minute,
// interleaved as a fleet reports them.
func Readings(n, perRouter int, start time.Time) []reading.Reading {
	out := make([]reading.Reading, 0, n*perRouter)
	for k := 0; k < perRouter; k++ {
		at := start.Add(time.Duration(k) * time.Minute).UTC().Truncate(time.Second)
		for i := 0; i < n; i++ {
			tx, rx, up := int64(1<<32+i*1000+k*4096), int64(1<<34+i*1000+k*65536), int64(3600+k*60)
			rsrp, sinr := float64(-90-i%20), float64(10+k%7)
			var cell int64 = 21283329
			out = append(out, reading.Reading{
				DeviceID: fmt.Sprintf("BENCH-%06d", i), Time: at.Add(time.Duration(i%60) * time.Second),
				TxBytes: &tx, RxBytes: &rx, Uptime: &up, RSRP: &rsrp, SINR: &sinr,
				MCC: "234", MNC: "30", CellID: &cell, Operator: "EE", NetworkType: "LTE",
				WANIP: "100.64.12.34",
			})
		}
	}
	return out
}

// withScratch runs f on a fresh migrated database and drops it after.
func withScratch(ctx context.Context, dsn string, f func(*pgxpool.Pool) (Scenario, error)) (Scenario, error) {
	var suffix [4]byte
	_, _ = rand.Read(suffix[:])
	name := "routerlogger_bench_" + hex.EncodeToString(suffix[:])

	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return Scenario{}, err
	}
	admin, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return Scenario{}, fmt.Errorf("connect: %w", err)
	}
	defer admin.Close(context.WithoutCancel(ctx))
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return Scenario{}, fmt.Errorf("create scratch database: %w", err)
	}
	defer admin.Exec(context.WithoutCancel(ctx), "DROP DATABASE "+name+" WITH (FORCE)")

	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		return Scenario{}, fmt.Errorf("bench needs a postgres:// URL, got %q", dsn)
	}
	u.Path = "/" + name
	pool, err := db.Open(ctx, u.String(), 16)
	if err != nil {
		return Scenario{}, err
	}
	defer pool.Close()
	if _, err := db.Migrate(ctx, pool, slog.New(slog.DiscardHandler), db.TimescaleOff); err != nil {
		return Scenario{}, err
	}
	return f(pool)
}

// copyScenario registers the routers, then copies the rows in chunks of
// batch, each chunk its own transaction, on one connection.
func copyScenario(ctx context.Context, pool *pgxpool.Pool, rs []reading.Reading, batch int) (Scenario, error) {
	ids, err := register(ctx, pool, rs)
	if err != nil {
		return Scenario{}, err
	}
	received := time.Now()
	rows := make([][]any, len(rs))
	for i := range rs {
		rows[i] = writer.RawRow(ids[rs[i].DeviceID], &rs[i], reading.SourceHTTP, received)
	}

	conn, err := pool.Acquire(ctx)
	if err != nil {
		return Scenario{}, err
	}
	defer conn.Release()
	var lat []time.Duration
	start := time.Now()
	for off := 0; off < len(rows); off += batch {
		t0 := time.Now()
		chunk := rows[off:min(off+batch, len(rows))]
		_, err := conn.CopyFrom(ctx, pgx.Identifier{"samples"}, writer.SampleColumns, pgx.CopyFromRows(chunk))
		if err != nil {
			return Scenario{}, err
		}
		lat = append(lat, time.Since(t0))
	}
	return figure("copy", len(rows), time.Since(start), lat), nil
}

func register(ctx context.Context, pool *pgxpool.Pool, rs []reading.Reading) (map[string]int64, error) {
	var serials []string
	seen := map[string]bool{}
	for _, r := range rs {
		if !seen[r.DeviceID] {
			seen[r.DeviceID] = true
			serials = append(serials, r.DeviceID)
		}
	}
	const q = "INSERT INTO routers (serial) SELECT unnest($1::text[]) RETURNING serial, id"
	rows, _ := pool.Query(ctx, q, serials)
	ids := map[string]int64{}
	var s string
	var id int64
	_, err := pgx.ForEachRow(rows, []any{&s, &id}, func() error { ids[s] = id; return nil })
	return ids, err
}

// httpScenario runs the writer and the HTTP API on a loopback listener and
// posts the readings as NDJSON batches from several clients.
func httpScenario(ctx context.Context, pool *pgxpool.Pool, rs []reading.Reading, opt Options) (Scenario, error) {
	w := writer.New(pool, writer.Config{Mode: db.ModePlain, Workers: 2, MaxBatch: 5000})
	if err := w.Start(ctx); err != nil {
		return Scenario{}, err
	}
	defer w.Close(context.WithoutCancel(ctx))

	store := tokens.NewStore(pool, nil, time.Minute)
	tok, err := store.CreateFleet(ctx, "bench")
	if err != nil {
		return Scenario{}, err
	}
	api := &httpapi.Handler{Writer: w, Tokens: store, Parser: &reading.Parser{}, MaxBody: 64 << 20}
	r := chi.NewRouter()
	api.Routes(r)
	srv := httptest.NewServer(r)
	defer srv.Close()

	// Each client is a gateway for its own share of the fleet and posts
	// that share in time order, as routers and collectors do.
	shares := make([][]reading.Reading, opt.Clients)
	for i := range rs {
		k := int(hash(rs[i].DeviceID) % uint32(opt.Clients))
		shares[k] = append(shares[k], rs[i])
	}
	bodies := make([][][]byte, opt.Clients)
	for k := range shares {
		b, err := ndjsonBodies(shares[k], opt.Batch)
		if err != nil {
			return Scenario{}, err
		}
		bodies[k] = b
	}

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: opt.Clients}}
	var (
		mu   sync.Mutex
		lat  []time.Duration
		errs []error
		wg   sync.WaitGroup
	)
	start := time.Now()
	for k := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, body := range bodies[k] {
				t0 := time.Now()
				err := post(ctx, client, srv.URL, tok, body)
				mu.Lock()
				lat = append(lat, time.Since(t0))
				if err != nil {
					errs = append(errs, err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if len(errs) > 0 {
		return Scenario{}, errors.Join(errs...)
	}

	var stored int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM samples").Scan(&stored); err != nil {
		return Scenario{}, err
	}
	if stored != len(rs) {
		return Scenario{}, fmt.Errorf("%d samples stored, want %d", stored, len(rs))
	}
	return figure("http_batch", len(rs), elapsed, lat), nil
}

func hash(s string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(s))
	return h.Sum32()
}

func post(ctx context.Context, c *http.Client, url, tok string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/api/v1/telemetry", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("post answered %s", resp.Status)
	}
	return nil
}

// ndjsonBodies encodes rs in the reading schema, batch readings a body.
func ndjsonBodies(rs []reading.Reading, batch int) ([][]byte, error) {
	var out [][]byte
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for i := range rs {
		if err := enc.Encode(wire(&rs[i])); err != nil {
			return nil, err
		}
		if (i+1)%batch == 0 || i == len(rs)-1 {
			out = append(out, bytes.Clone(buf.Bytes()))
			buf.Reset()
		}
	}
	return out, nil
}

// wire is r in the JSON shape routers post.
func wire(r *reading.Reading) map[string]any {
	return map[string]any{
		"device_id": r.DeviceID, "timestamp": r.Time.Format(time.RFC3339),
		"counters": map[string]any{"total_tx_bytes": r.TxBytes, "total_rx_bytes": r.RxBytes},
		"uptime":   r.Uptime, "mcc": r.MCC, "mnc": r.MNC, "operator": r.Operator,
		"network_type": r.NetworkType, "wan_ip": r.WANIP,
		"cell": map[string]any{"cid": r.CellID, "rsrp": r.RSRP, "sinr": r.SINR},
	}
}

func figure(name string, n int, elapsed time.Duration, lat []time.Duration) Scenario {
	slices.Sort(lat)
	q := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	return Scenario{Name: name, Samples: n, Seconds: elapsed.Seconds(),
		SamplesPerS: float64(n) / elapsed.Seconds(), P50ms: q(0.5), P99ms: q(0.99)}
}
