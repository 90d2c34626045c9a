package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/routerlogger/routerlogger/ingest/merge"
)

// runRouterMerge serves `router merge` and `router duplicates`.
func runRouterMerge(ctx context.Context, e *env, sub string, args []string) error {
	pos, args := leadingArgs(args)
	f := newFlags(e, "router "+sub, routerUsage)
	f.args = sub == "merge"
	url := f.databaseURL()
	dry := f.cfg.Bool("dry-run", nil, false, "print what the merge would do, change nothing")
	gap := f.cfg.Duration("gap", envs("GAP"), 600*time.Second, time.Second, 7*24*time.Hour,
		"the writer's gap threshold, for the recomputed usage")
	if err := f.parse(args); err != nil {
		return err
	}
	pos = append(pos, f.fs.Args()...)
	if sub == "merge" && len(pos) != 2 {
		fmt.Fprintln(e.stderr, "Usage: routerlogger "+routerUsage)
		return errUsage
	}

	pool, err := openPool(ctx, *url, 2, false)
	if err != nil {
		return err
	}
	defer pool.Close()
	m := merge.New(pool, merge.Config{Gap: *gap, Logger: f.logger()})

	if sub == "duplicates" {
		return routerDuplicates(ctx, e, m)
	}
	ids, err := m.IDs(ctx, pos[0], pos[1])
	if err != nil {
		return err
	}
	run := m.Merge
	if *dry {
		run = m.DryRun
	}
	rep, err := run(ctx, ids[0], ids[1])
	if err != nil {
		return err
	}
	printMerge(e, rep)
	return nil
}

func routerDuplicates(ctx context.Context, e *env, m *merge.Merger) error {
	pairs, err := m.FindDuplicates(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KEEP\tSAMPLES\tDUPLICATE\tSAMPLES\tMATCHED BY\tVALUE")
	for _, p := range pairs {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%s\t%s\n", p.Keep.Serial, p.Keep.Samples,
			p.Dup.Serial, p.Dup.Samples, p.MatchedBy, p.Value)
	}
	return tw.Flush()
}

// printMerge prints a merge report, one fact a line.
func printMerge(e *env, rep merge.Report) {
	verb := "merged"
	if rep.DryRun {
		verb = "would merge (dry run, nothing changed)"
	}
	fmt.Fprintf(e.stdout, "%s %s into %s, matched by %s %s\n", verb, rep.Dup.Serial, rep.Keep.Serial,
		rep.MatchedBy, rep.Value)
	fmt.Fprintf(e.stdout, "samples moved    %d\n", rep.SamplesMoved)
	fmt.Fprintf(e.stdout, "samples dropped  %d (the keeper has a reading at the same time)\n", rep.SamplesDropped)
	if !rep.From.IsZero() {
		fmt.Fprintf(e.stdout, "usage recomputed %d samples from %s, %d changed\n", rep.Recomputed,
			rep.From.Format(time.RFC3339), rep.Changed)
	}
	for _, name := range slices.Sorted(maps.Keys(rep.Rows)) {
		fmt.Fprintf(e.stdout, "%-16s %d\n", name, rep.Rows[name])
	}
}
