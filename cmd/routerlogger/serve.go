package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/routerlogger/routerlogger/ingest/httpapi"
	"github.com/routerlogger/routerlogger/ingest/reading"
	"github.com/routerlogger/routerlogger/ingest/tokens"
	"github.com/routerlogger/routerlogger/ingest/writer"
	"github.com/routerlogger/routerlogger/internal/db"
	"github.com/routerlogger/routerlogger/internal/httpserver"
)

func init() {
	commands["serve"] = command{"run the ingest API, webhooks and durable jobs until SIGINT or SIGTERM", runServe}
}

// serveConfig is every setting of the server, parsed and range-checked.
type serveConfig struct {
	databaseURL  *string
	maxConns     *int64
	timescale    *string
	createDB     *bool
	httpAddr     *string
	readTimeout  *time.Duration
	writeTimeout *time.Duration
	idleTimeout  *time.Duration
	shutdown     *time.Duration
	maxBody      *int64
	retryAfter   *time.Duration
	batch        *int64
	linger       *time.Duration
	queue        *int64
	workers      *int64
	txTimeout    *time.Duration
	gap          *time.Duration
	maxFuture    *time.Duration
	maxAge       *time.Duration
	tokenTTL     *time.Duration
	mqtt         *mqttConfig    // MQTT intake settings (mqtt.go)
	webhooks     *webhookConfig // captive-portal webhook and jobs (webhooks.go)
	sync         *syncConfig    // sync jobs (sync.go)
}

func registerServe(f *flags) *serveConfig {
	c := f.cfg
	return &serveConfig{
		databaseURL: f.databaseURL(),
		maxConns:    c.Int("db-max-conns", envs("DB_MAX_CONNS"), 16, 2, 1000, "database pool size"),
		timescale: c.Enum("timescale", envs("TIMESCALE"), db.TimescaleAuto,
			[]string{db.TimescaleAuto, db.TimescaleOn, db.TimescaleOff},
			"use TimescaleDB for a new database: auto, on or off"),
		createDB: c.Bool("create-database", envs("CREATE_DATABASE"), false,
			"create the database when it does not exist"),
		httpAddr: c.Addr("http-addr", envs("HTTP_ADDR"), "127.0.0.1:8080",
			"HTTP listen address"),
		readTimeout: c.Duration("http-read-timeout", envs("HTTP_READ_TIMEOUT"), 30*time.Second, time.Second, time.Hour,
			"time to read a request"),
		writeTimeout: c.Duration("http-write-timeout", envs("HTTP_WRITE_TIMEOUT"), 60*time.Second, time.Second, time.Hour,
			"time to answer a request"),
		idleTimeout: c.Duration("http-idle-timeout", envs("HTTP_IDLE_TIMEOUT"), 120*time.Second, time.Second, time.Hour,
			"keep-alive idle time"),
		shutdown: c.Duration("shutdown-timeout", envs("SHUTDOWN_TIMEOUT"), 30*time.Second, 0, 10*time.Minute,
			"time to finish in-flight work on SIGTERM"),
		maxBody: c.Int("http-max-body", envs("HTTP_MAX_BODY"), 8<<20, 1024, 1<<30,
			"request body limit in bytes, after decompression"),
		retryAfter: c.Duration("retry-after", envs("RETRY_AFTER"), 5*time.Second, time.Second, time.Hour,
			"Retry-After sent with 503"),
		batch: c.Int("writer-batch", envs("WRITER_BATCH"), 5000, 1, 100_000,
			"readings per writer transaction"),
		linger: c.Duration("writer-linger", envs("WRITER_LINGER"), 0, 0, time.Second,
			"time a writer waits to fill a batch"),
		queue: c.Int("writer-queue", envs("WRITER_QUEUE"), 1024, 1, 1_000_000,
			"batches waiting for the writer before 503"),
		workers: c.Int("writer-workers", envs("WRITER_WORKERS"), 2, 1, 64,
			"concurrent writer transactions"),
		txTimeout: c.Duration("writer-timeout", envs("WRITER_TIMEOUT"), 30*time.Second, time.Second, 10*time.Minute,
			"limit of one writer transaction"),
		gap: c.Duration("gap", envs("GAP"), 600*time.Second, time.Second, 7*24*time.Hour,
			"readings further apart are flagged as a gap"),
		maxFuture: c.Duration("max-future", envs("MAX_FUTURE"), 10*time.Minute, time.Second, 24*time.Hour,
			"how far in the future a timestamp may lie"),
		maxAge: c.Duration("max-age", envs("MAX_AGE"), 0, 0, 100*365*24*time.Hour,
			"reject readings older than this (0: no bound)"),
		tokenTTL: c.Duration("token-cache", envs("TOKEN_CACHE"), 30*time.Second, 0, time.Hour,
			"how long token checks are cached"),
		mqtt:     registerMQTT(f),     // mqtt.go
		webhooks: registerWebhooks(f), // webhooks.go
		sync:     registerSync(f),     // sync.go
	}
}

func runServe(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "serve", "serve [flags]")
	cfg := registerServe(f)
	if err := f.parse(args); err != nil {
		return err
	}
	log := f.logger()

	srv, err := startServer(ctx, cfg, log, nil)
	if err != nil {
		return err
	}
	return srv.wait()
}

// server is a running ingest server: pool, writer and HTTP listener.
type server struct {
	cfg    *serveConfig
	log    *slog.Logger
	pool   *pgxpool.Pool
	writer *writer.Writer
	mqtt   *mqttIntake // nil when MQTT is off (mqtt.go)
	hooks  *jobRuntime
	http   *httpserver.Server
	ln     net.Listener
	done   chan error
	Addr   string
}

// startServer migrates, starts the writer and listens. It returns once the
// address is bound; the server stops when ctx ends. ready, when not nil,
// receives the bound address.
func startServer(ctx context.Context, cfg *serveConfig, log *slog.Logger, reg *prometheus.Registry) (*server, error) {
	pool, err := openPool(ctx, *cfg.databaseURL, int32(*cfg.maxConns), *cfg.createDB)
	if err != nil {
		return nil, err
	}
	mode, err := db.Migrate(ctx, pool, log, *cfg.timescale)
	if err != nil {
		pool.Close()
		return nil, err
	}

	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(db.PoolCollector(pool)...)

	w := writer.New(pool, writer.Config{
		MaxBatch: int(*cfg.batch), Linger: *cfg.linger, QueueSize: int(*cfg.queue),
		Workers: int(*cfg.workers), Timeout: *cfg.txTimeout, Gap: *cfg.gap, Mode: mode,
		Logger: log, Registerer: reg,
	})
	if err := w.Start(ctx); err != nil {
		pool.Close()
		return nil, err
	}

	parser := &reading.Parser{MaxFuture: *cfg.maxFuture}
	if *cfg.maxAge > 0 {
		parser.MaxAge = *cfg.maxAge
	}
	toks := tokens.NewStore(pool, nil, *cfg.tokenTTL)
	api := &httpapi.Handler{
		Writer: w, Tokens: toks, Parser: parser,
		MaxBody: *cfg.maxBody, RetryAfter: *cfg.retryAfter, Log: log,
	}

	// MQTT intake (mqtt.go): after the writer, before the listener.
	mq, err := startMQTT(ctx, cfg.mqtt, w, pool, parser, log, reg)
	if err != nil {
		_ = w.Close(ctx)
		pool.Close()
		return nil, err
	}

	r := chi.NewRouter()
	r.Use(httpserver.NewMetrics(reg).Middleware(log))
	api.Routes(r)
	hooks, err := startJobs(ctx, cfg.webhooks, cfg.sync, pool, log, reg)
	if err != nil {
		_ = mq.stop(ctx)
		_ = w.Close(ctx)
		pool.Close()
		return nil, err
	}
	mountWebhooks(cfg.webhooks, hooks, pool, r, toks, log, reg)
	if err := mountOAuth(cfg.sync, pool, r, log, reg); err != nil {
		_ = hooks.stop(ctx)
		_ = mq.stop(ctx)
		_ = w.Close(ctx)
		pool.Close()
		return nil, err
	}
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	r.Get("/readyz", readyHandler(pool))
	r.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))

	hs := httpserver.New(*cfg.httpAddr, r, httpserver.Timeouts{
		Read: *cfg.readTimeout, Write: *cfg.writeTimeout, Idle: *cfg.idleTimeout, Shutdown: *cfg.shutdown,
	}, log)
	ln, err := hs.Listen()
	if err != nil {
		_ = mq.stop(ctx)
		_ = w.Close(ctx)
		_ = hooks.stop(ctx)
		pool.Close()
		return nil, err
	}

	s := &server{cfg: cfg, log: log, pool: pool, writer: w, mqtt: mq, hooks: hooks, http: hs, ln: ln,
		done: make(chan error, 1), Addr: ln.Addr().String()}
	go func() { s.done <- s.serve(ctx) }()
	return s, nil
}

// serve runs until ctx ends, then shuts down in order: stop intake (MQTT
// and HTTP at once), drain the writer, stop the jobs, close the pool.
func (s *server) serve(ctx context.Context) error {
	mqttDone := s.mqtt.stopWhenDone(ctx, *s.cfg.shutdown) // mqtt.go
	httpErr := s.http.Serve(ctx, s.ln)
	mqttErr := <-mqttDone

	drain, cancel := context.WithTimeout(context.WithoutCancel(ctx), *s.cfg.shutdown)
	defer cancel()
	werr := s.writer.Close(drain)
	jerr := s.hooks.stop(drain)
	s.pool.Close()
	s.log.Info("server stopped")
	return errors.Join(httpErr, mqttErr, werr, jerr)
}

// wait blocks until the server has stopped.
func (s *server) wait() error { return <-s.done }

// readyHandler answers 200 when the database answers and its schema is
// current, else 503 with the reason.
func readyHandler(pool *pgxpool.Pool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		st, err := db.Check(ctx, pool)
		if err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "schema": st.Current, "mode": st.Mode})
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// describeAddr returns a URL for a listen address.
func describeAddr(addr string) string {
	return fmt.Sprintf("http://%s", addr)
}
