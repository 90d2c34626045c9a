package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/routerlogger/routerlogger/ingest/bench"
	"github.com/routerlogger/routerlogger/ingest/writer"
)

func init() {
	commands["bench"] = command{"measure ingest throughput against raw CopyFrom, in one run", runBench}
}

// benchConfig is the bench command's settings.
type benchConfig struct {
	url, jsonOut, cpuProfile, scenarios, mqttURL, mosquittoConf *string
	routers, per, batch, clients, singleClients, publishers     *int64
	writerBatch, writerWorkers                                  *int64
	writerLinger                                                *time.Duration
}

func registerBench(f *flags) *benchConfig {
	c := f.cfg
	return &benchConfig{
		url: c.URL("admin-url", envs("BENCH_DATABASE_URL"),
			"postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", []string{"postgres", "postgresql"},
			"server where scratch databases are created and dropped"),
		routers: c.Int("routers", nil, 500, 1, 100_000, "routers in the data set"),
		per:     c.Int("readings", nil, 100, 1, 100_000, "readings per router"),
		batch: c.Int("batch", nil, 1000, 1, 100_000,
			"readings per HTTP request (http_batch) and per copy chunk"),
		clients: c.Int("clients", nil, 4, 1, 1000, "concurrent HTTP clients of http_batch"),
		singleClients: c.Int("single-clients", nil, 200, 1, 10_000,
			"concurrent clients of http_single, one reading a request"),
		publishers: c.Int("publishers", nil, 4, 1, 1000, "MQTT publishers of mqtt"),
		scenarios: c.String("scenarios", nil, strings.Join(bench.AllScenarios, ","),
			"comma-separated scenarios to run"),
		mqttURL: c.String("mqtt-url", nil, "",
			"broker of the mqtt scenario (default: a private mosquitto from --mosquitto-conf)"),
		mosquittoConf: c.String("mosquitto-conf", nil, "deploy/mosquitto.conf",
			"configuration the private broker is derived from"),
		writerBatch:   c.Int("writer-batch", nil, 5000, 1, 100_000, "writer MaxBatch"),
		writerWorkers: c.Int("writer-workers", nil, 2, 1, 64, "writer Workers"),
		writerLinger:  c.Duration("writer-linger", nil, 0, 0, time.Second, "writer Linger"),
		jsonOut:       c.String("json", nil, "", "also write the figures as JSON to this file"),
		cpuProfile: c.String("cpuprofile", nil, "",
			"write a CPU profile of the whole run to this file"),
	}
}

func runBench(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "bench", "bench [flags]")
	cfg := registerBench(f)
	if err := f.parse(args); err != nil {
		return err
	}
	opt, err := cfg.options(f)
	if err != nil {
		return err
	}

	stopProfile, err := startProfile(*cfg.cpuProfile)
	if err != nil {
		return err
	}
	rep, err := bench.Run(ctx, opt)
	stopProfile()
	if err != nil {
		return err
	}

	printBench(e, rep)
	if *cfg.jsonOut != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(*cfg.jsonOut, append(b, '\n'), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", *cfg.jsonOut, err)
		}
	}
	return nil
}

// options turns the settings into bench options, reading the broker
// configuration when the mqtt scenario needs a private broker.
func (c *benchConfig) options(f *flags) (bench.Options, error) {
	opt := bench.Options{DSN: *c.url, Routers: int(*c.routers), PerRouter: int(*c.per),
		Batch: int(*c.batch), Clients: int(*c.clients), SingleClients: int(*c.singleClients),
		Publishers: int(*c.publishers), MQTTURL: *c.mqttURL,
		Writer: writer.Config{MaxBatch: int(*c.writerBatch), Workers: int(*c.writerWorkers),
			Linger: *c.writerLinger},
		Log: f.logger()}
	for _, s := range strings.Split(*c.scenarios, ",") {
		if s = strings.TrimSpace(s); s != "" {
			opt.Scenarios = append(opt.Scenarios, s)
		}
	}

	if opt.MQTTURL != "" || !slices.Contains(opt.Scenarios, bench.ScenarioMQTT) {
		return opt, nil
	}
	raw, err := os.ReadFile(*c.mosquittoConf)
	if errors.Is(err, fs.ErrNotExist) {
		return opt, fmt.Errorf("--mosquitto-conf %s: not found; run from the repository root, "+
			"point --mosquitto-conf at deploy/mosquitto.conf, or give --mqtt-url", *c.mosquittoConf)
	}
	if err != nil {
		return opt, fmt.Errorf("--mosquitto-conf: %w", err)
	}
	opt.MosquittoConf = string(raw)
	return opt, nil
}

// startProfile starts a CPU profile into path, if given; the returned
// function stops it.
func startProfile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

func printBench(e *env, rep bench.Report) {
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tsamples\tseconds\tsamples/s\tp50 ms\tp99 ms\tratio to copy\t"+
		"commits\treadings/commit\tms/commit\t")
	for _, s := range rep.Scenarios {
		fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.0f\t%.1f\t%.1f\t%.2f\t%d\t%.0f\t%.1f\t\n",
			s.Name, s.Samples, s.Seconds, s.SamplesPerS, s.P50ms, s.P99ms, s.RatioToCopy,
			s.Commits, s.MeanBatch, s.MeanCommitMs)
	}
	tw.Flush()
	fmt.Fprintf(e.stdout, "peak RSS %.0f MB\n", rep.PeakRSSMB)
}
