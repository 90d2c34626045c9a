package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/routerlogger/routerlogger/ingest/simulate"
	"github.com/routerlogger/routerlogger/internal/timeparse"
)

func init() {
	commands["simulate"] = command{"post realistic telemetry for a simulated fleet to a server", runSimulate}
}

func runSimulate(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "simulate", "simulate --token TOKEN [flags]")
	c := f.cfg
	url := c.URL("url", envs("URL"), "http://127.0.0.1:8080", []string{"http", "https"}, "server base URL")
	token := c.Secret("token", envs("TOKEN"), "fleet token (routerlogger token create --fleet)")
	routers := c.Int("routers", nil, 10, 1, simulate.MaxRouters, "fleet size")
	duration := c.Duration("duration", nil, 24*time.Hour, time.Minute, 366*24*time.Hour, "simulated time span")
	interval := c.Duration("interval", nil, 5*time.Minute, time.Second, 24*time.Hour, "reading period per router")
	start := c.String("start", nil, "", "simulated time of the first reading (default: now minus --duration)")
	rate := c.Int("rate", nil, 0, 0, 1_000_000, "POSTs per second (0: as fast as the server takes them)")
	batch := c.Int("batch", nil, 1, 1, 100_000, "readings per POST (more than 1 sends NDJSON)")
	clients := c.Int("clients", nil, 4, 1, 10_000, "concurrent posting clients")
	seed := c.Int("seed", nil, 1, 0, 1<<62, "random seed; the same seed gives the same fleet")
	gz := c.Bool("gzip", nil, false, "gzip request bodies")
	if err := f.parse(args); err != nil {
		return err
	}
	if *token == "" {
		return fmt.Errorf("simulate needs --token or ROUTERLOGGER_TOKEN (create one with routerlogger token create --fleet)")
	}

	cfg := simulate.Config{
		URL: *url, Token: *token, Routers: int(*routers), Duration: *duration, Interval: *interval,
		Rate: float64(*rate), Batch: int(*batch), Clients: int(*clients), Seed: *seed, Gzip: *gz,
		Log: f.logger(),
	}
	if *start != "" {
		t, err := timeparse.Parse(*start)
		if err != nil {
			return fmt.Errorf("--start=%q: %w", *start, err)
		}
		cfg.Start = t
	}
	rep, err := simulate.Run(ctx, cfg)
	printSimReport(e.stdout, rep)
	return err
}

func printSimReport(w io.Writer, rep simulate.Report) {
	fmt.Fprintf(w, "posted %d readings in %d requests (%d retries) in %s: %d accepted, %d duplicates, %d rejected\n",
		rep.Posted, rep.Requests, rep.Retries, rep.Elapsed.Round(time.Millisecond),
		rep.Accepted, rep.Duplicates, rep.Rejected)
	var reboots, glitches, late, dups int
	serials := make([]string, 0, len(rep.Truth.Routers))
	for s, rt := range rep.Truth.Routers {
		serials = append(serials, s)
		reboots, glitches, late, dups = reboots+rt.Reboots, glitches+rt.Glitches, late+rt.Late, dups+rt.Duplicates
	}
	sort.Strings(serials)
	tx, rx := rep.Truth.Total()
	fmt.Fprintf(w, "simulated %d routers with %d reboots, %d glitches, %d late and %d duplicate deliveries; "+
		"true usage tx %d B, rx %d B\n", len(serials), reboots, glitches, late, dups, tx, rx)
}
