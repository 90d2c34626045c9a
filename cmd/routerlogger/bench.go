package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/routerlogger/routerlogger/ingest/bench"
)

func init() {
	commands["bench"] = command{"measure ingest throughput against raw CopyFrom, in one run", runBench}
}

func runBench(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "bench", "bench [flags]")
	c := f.cfg
	url := c.URL("admin-url", envs("BENCH_DATABASE_URL"),
		"postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", []string{"postgres", "postgresql"},
		"server where scratch databases are created and dropped")
	routers := c.Int("routers", nil, 500, 1, 100_000, "routers in the data set")
	per := c.Int("readings", nil, 100, 1, 100_000, "readings per router")
	batch := c.Int("batch", nil, 1000, 1, 100_000, "readings per HTTP request and per copy chunk")
	clients := c.Int("clients", nil, 4, 1, 1000, "concurrent HTTP clients")
	jsonOut := c.String("json", nil, "", "also write the figures as JSON to this file")
	if err := f.parse(args); err != nil {
		return err
	}

	rep, err := bench.Run(ctx, bench.Options{DSN: *url, Routers: int(*routers), PerRouter: int(*per),
		Batch: int(*batch), Clients: int(*clients), Log: f.logger()})
	if err != nil {
		return err
	}

	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tsamples\tseconds\tsamples/s\tp50 ms\tp99 ms\tratio to copy\t")
	for _, s := range rep.Scenarios {
		fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.0f\t%.1f\t%.1f\t%.2f\t\n",
			s.Name, s.Samples, s.Seconds, s.SamplesPerS, s.P50ms, s.P99ms, s.RatioToCopy)
	}
	tw.Flush()

	if *jsonOut != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(*jsonOut, append(b, '\n'), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", *jsonOut, err)
		}
	}
	return nil
}
