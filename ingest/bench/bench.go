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
	"io"
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
	"github.com/prometheus/client_golang/prometheus"

	"github.com/routerlogger/routerlogger/ingest/httpapi"
	"github.com/routerlogger/routerlogger/ingest/reading"
	"github.com/routerlogger/routerlogger/ingest/tokens"
	"github.com/routerlogger/routerlogger/ingest/writer"
	"github.com/routerlogger/routerlogger/internal/db"
)

// Scenario names, in the order [Run] measures them.
const (
	ScenarioCopy       = "copy"
	ScenarioHTTPBatch  = "http_batch"
	ScenarioHTTPSingle = "http_single"
	ScenarioMQTT       = "mqtt"
)

// AllScenarios are the scenarios [Run] measures by default.
var AllScenarios = []string{ScenarioCopy, ScenarioHTTPBatch, ScenarioHTTPSingle, ScenarioMQTT}

// Options size a bench run.
type Options struct {
	// DSN is a server connection with the right to create databases.
	DSN       string
	Routers   int // default 500
	PerRouter int // readings per router, default 100
	Batch     int // readings per HTTP request and per copy chunk, default 1000
	Clients   int // concurrent HTTP clients of http_batch, default 4
	// SingleClients is the number of concurrent clients of http_single,
	// each posting one reading per request (default 200).
	SingleClients int
	// Publishers is the number of MQTT publishers of mqtt (default 4).
	Publishers int
	// MQTTURL is the broker of the mqtt scenario; empty starts a private
	// Mosquitto configured from MosquittoConf.
	MQTTURL string
	// MosquittoConf is the base configuration of the private broker, the
	// text of deploy/mosquitto.conf.
	MosquittoConf string
	// MosquittoBin is the broker binary; empty means the default.
	MosquittoBin string
	// MQTTBatch and MQTTInFlight tune the consumer (defaults: the
	// consumer's, [mqtt.DefaultBatch] and [mqtt.DefaultInFlight]).
	MQTTBatch    int
	MQTTInFlight int
	// Scenarios selects what to measure (default [AllScenarios]); the
	// ratio to copy is 0 when copy is not among them.
	Scenarios []string
	// Writer tunes the writer of every front-door scenario: only MaxBatch,
	// Linger and Workers are read (defaults 5000, 0, 2).
	Writer writer.Config
	Log    *slog.Logger
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
	// Commits, MeanBatch and MeanCommitMs describe the writer's
	// transactions (group commit); zero for copy.
	Commits      int     `json:"commits,omitempty"`
	MeanBatch    float64 `json:"mean_batch,omitempty"`
	MeanCommitMs float64 `json:"mean_commit_ms,omitempty"`
}

// Report is the result of [Run].
type Report struct {
	Scenarios []Scenario `json:"scenarios"`
	// PeakRSSMB is the bench process's peak resident set (getrusage
	// maxrss) at the end of the run, in MiB: the server side and the load
	// generators together.
	PeakRSSMB float64 `json:"peak_rss_mb"`
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
	if o.SingleClients <= 0 {
		o.SingleClients = 200
	}
	if o.Publishers <= 0 {
		o.Publishers = 4
	}
	if len(o.Scenarios) == 0 {
		o.Scenarios = AllScenarios
	}
	if o.Writer.MaxBatch <= 0 {
		o.Writer.MaxBatch = 5000
	}
	if o.Writer.Workers <= 0 {
		o.Writer.Workers = 2
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
}

// scenarioFunc measures one scenario on a fresh database.
type scenarioFunc func(ctx context.Context, pool *pgxpool.Pool, rs []reading.Reading,
	opt Options) (Scenario, error)

var scenarios = map[string]scenarioFunc{
	ScenarioCopy: func(ctx context.Context, pool *pgxpool.Pool, rs []reading.Reading,
		opt Options) (Scenario, error) {
		return copyScenario(ctx, pool, rs, opt.Batch)
	},
	ScenarioHTTPBatch:  httpScenario,
	ScenarioHTTPSingle: httpSingleScenario,
	ScenarioMQTT:       mqttScenario,
}

// Run measures the selected scenarios, each on its own scratch database,
// in the order of [AllScenarios].
func Run(ctx context.Context, opt Options) (Report, error) {
	opt.defaults()
	for _, name := range opt.Scenarios {
		if scenarios[name] == nil {
			return Report{}, fmt.Errorf("bench: unknown scenario %q (known: %v)", name, AllScenarios)
		}
	}
	rs := Readings(opt.Routers, opt.PerRouter, time.Now().Add(-24*time.Hour))

	var rep Report
	for _, name := range AllScenarios {
		if !slices.Contains(opt.Scenarios, name) {
			continue
		}
		opt.Log.Info("bench scenario", "name", name, "readings", len(rs))
		fig, err := withScratch(ctx, opt.DSN, func(pool *pgxpool.Pool) (Scenario, error) {
			return scenarios[name](ctx, pool, rs, opt)
		})
		if err != nil {
			return Report{}, fmt.Errorf("bench %s: %w", name, err)
		}
		rep.Scenarios = append(rep.Scenarios, fig)
	}

	rep.ratios()
	rep.PeakRSSMB = peakRSSMB()
	return rep, nil
}

// ratios fills each scenario's ratio to copy, when copy was measured.
func (r *Report) ratios() {
	var ceiling float64
	for _, s := range r.Scenarios {
		if s.Name == ScenarioCopy {
			ceiling = s.SamplesPerS
		}
	}
	if ceiling == 0 {
		return
	}
	for i := range r.Scenarios {
		r.Scenarios[i].RatioToCopy = r.Scenarios[i].SamplesPerS / ceiling
	}
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
	return figure(ScenarioCopy, len(rows), time.Since(start), lat), nil
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
func httpScenario(ctx context.Context, pool *pgxpool.Pool, rs []reading.Reading,
	opt Options) (Scenario, error) {
	stats := newWriterStats()
	srv, tok, stop, err := startHTTP(ctx, pool, opt, stats.reg)
	if err != nil {
		return Scenario{}, err
	}
	defer stop()

	// Each client is a gateway for its own share of the fleet and posts
	// that share in time order, as routers and collectors do.
	shares := make([][]int, opt.Clients)
	for i := range rs {
		k := int(hash(rs[i].DeviceID) % uint32(opt.Clients))
		shares[k] = append(shares[k], i)
	}
	bodies := make([][][]byte, opt.Clients)
	for k := range shares {
		b, err := ndjsonBodies(rs, shares[k], opt.Batch)
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
				err := post(ctx, client, srv.URL, tok, "application/x-ndjson", body)
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

	if err := checkStored(ctx, pool, len(rs)); err != nil {
		return Scenario{}, err
	}
	return stats.fill(figure(ScenarioHTTPBatch, len(rs), elapsed, lat)), nil
}

// startWriter starts a writer with the bench's tuning, its metrics in
// reg; stop closes it.
func startWriter(ctx context.Context, pool *pgxpool.Pool, opt Options,
	reg prometheus.Registerer) (*writer.Writer, func(), error) {
	w := writer.New(pool, writer.Config{Mode: db.ModePlain, Workers: opt.Writer.Workers,
		MaxBatch: opt.Writer.MaxBatch, Linger: opt.Writer.Linger, QueueSize: 4096, Registerer: reg})
	if err := w.Start(ctx); err != nil {
		return nil, nil, err
	}
	return w, func() { _ = w.Close(context.WithoutCancel(ctx)) }, nil
}

// startHTTP runs the writer and the HTTP API on a loopback listener and
// returns the server, a fleet token and a function that stops both.
func startHTTP(ctx context.Context, pool *pgxpool.Pool, opt Options,
	reg prometheus.Registerer) (*httptest.Server, string, func(), error) {
	w, stopWriter, err := startWriter(ctx, pool, opt, reg)
	if err != nil {
		return nil, "", nil, err
	}
	store := tokens.NewStore(pool, nil, time.Minute)
	tok, err := store.CreateFleet(ctx, "bench")
	if err != nil {
		stopWriter()
		return nil, "", nil, err
	}
	api := &httpapi.Handler{Writer: w, Tokens: store, Parser: &reading.Parser{}, MaxBody: 64 << 20}
	r := chi.NewRouter()
	api.Routes(r)
	srv := httptest.NewServer(r)
	return srv, tok, func() { srv.Close(); stopWriter() }, nil
}

// checkStored checks that the samples table holds n rows.
func checkStored(ctx context.Context, pool *pgxpool.Pool, n int) error {
	var stored int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM samples").Scan(&stored); err != nil {
		return err
	}
	if stored != n {
		return fmt.Errorf("%d samples stored, want %d", stored, n)
	}
	return nil
}

func hash(s string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(s))
	return h.Sum32()
}

func post(ctx context.Context, c *http.Client, url, tok, contentType string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/api/v1/telemetry", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", contentType)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body) // so the connection is reused
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("post answered %s", resp.Status)
	}
	return nil
}

// ndjsonBodies encodes the readings rs[idx...] in the reading schema,
// batch readings a body.
func ndjsonBodies(rs []reading.Reading, idx []int, batch int) ([][]byte, error) {
	var out [][]byte
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for n, i := range idx {
		if err := enc.Encode(wire(&rs[i])); err != nil {
			return nil, err
		}
		if (n+1)%batch == 0 || n == len(idx)-1 {
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
