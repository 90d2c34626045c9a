package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/routerlogger/routerlogger/internal/fleet"
	"github.com/routerlogger/routerlogger/internal/timeparse"
)

func init() {
	commands["property"] = command{"assign routers to properties and show the history", runProperty}
}

const propertyUsage = `property assign SERIAL PROPERTY [--at TIME] [--source cli]
       routerlogger property unassign SERIAL [--at TIME]
       routerlogger property list
       routerlogger property history SERIAL`

func runProperty(ctx context.Context, e *env, args []string) error {
	if done, err := subcommandHelp(e, args, propertyUsage); done {
		return err
	}
	sub, args := args[0], args[1:]
	pos, args := leadingArgs(args)

	f := newFlags(e, "property "+sub, propertyUsage)
	f.args = sub != "list"
	url := f.databaseURL()
	at := f.cfg.String("at", nil, "", "when the router arrived at the property (default now)")
	source := f.cfg.String("source", nil, "cli", "who says so, stored with the period")
	if err := f.parse(args); err != nil {
		return err
	}
	pos = append(pos, f.fs.Args()...)

	want := map[string]int{"assign": 2, "unassign": 1, "list": 0, "history": 1}
	n, ok := want[sub]
	if !ok {
		fmt.Fprintf(e.stderr, "routerlogger property: unknown subcommand %q\n", sub)
		return errUsage
	}
	if len(pos) != n {
		fmt.Fprintln(e.stderr, "Usage: routerlogger "+propertyUsage)
		return errUsage
	}

	pool, err := openPool(ctx, *url, 2, false)
	if err != nil {
		return err
	}
	defer pool.Close()
	store := fleet.NewStore(pool)

	switch sub {
	case "assign":
		return propertyAssign(ctx, e, store, pos[0], pos[1], *at, *source)
	case "unassign":
		return propertyUnassign(ctx, e, store, pos[0], *at)
	case "list":
		return propertyList(ctx, e, store)
	default:
		return propertyHistory(ctx, e, store, pos[0])
	}
}

// leadingArgs splits the positional arguments before the first flag off
// args, so that `property assign SERIAL PROPERTY --at ...` parses.
func leadingArgs(args []string) (pos, rest []string) {
	for len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		pos, args = append(pos, args[0]), args[1:]
	}
	return pos, args
}

// atTime parses --at; empty means now.
func atTime(at string) (time.Time, error) {
	if at == "" {
		return time.Now(), nil
	}
	t, err := timeparse.Parse(at)
	if err != nil {
		return time.Time{}, fmt.Errorf("--at=%q: %w", at, err)
	}
	return t, nil
}

func propertyAssign(ctx context.Context, e *env, store *fleet.Store,
	serial, property, at, source string) error {
	when, err := atTime(at)
	if err != nil {
		return err
	}

	ch, err := store.AssignProperty(ctx, serial, property, when, source)
	if err != nil {
		return err
	}
	if !ch.Changed {
		fmt.Fprintf(e.stdout, "router %s is already at %s since %s\n", ch.Current.Serial,
			ch.Current.Property, ch.Current.From.Format(time.RFC3339))
		return nil
	}
	if ch.Closed != nil {
		fmt.Fprintf(e.stdout, "router %s left %s at %s\n", ch.Closed.Serial, ch.Closed.Property,
			ch.Closed.To.Format(time.RFC3339))
	}
	fmt.Fprintf(e.stdout, "router %s is at %s since %s\n", ch.Current.Serial, ch.Current.Property,
		ch.Current.From.Format(time.RFC3339))
	return nil
}

func propertyUnassign(ctx context.Context, e *env, store *fleet.Store, serial, at string) error {
	when, err := atTime(at)
	if err != nil {
		return err
	}
	ch, err := store.Unassign(ctx, serial, when)
	if err != nil {
		return err
	}
	if !ch.Changed {
		fmt.Fprintf(e.stdout, "router %s is at no property\n", serial)
		return nil
	}
	fmt.Fprintf(e.stdout, "router %s left %s at %s\n", ch.Closed.Serial, ch.Closed.Property,
		ch.Closed.To.Format(time.RFC3339))
	return nil
}

func propertyList(ctx context.Context, e *env, store *fleet.Store) error {
	list, err := store.Properties(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROPERTY\tROUTERS\tCLICKUP\tADDRESS")
	for _, p := range list {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", p.Name, p.Routers, dash(p.ClickUpID), dash(p.Address))
	}
	return tw.Flush()
}

func propertyHistory(ctx context.Context, e *env, store *fleet.Store, serial string) error {
	hist, err := store.History(ctx, serial)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SERIAL\tPROPERTY\tFROM\tTO\tSOURCE")
	for _, a := range hist {
		to := "(current)"
		if a.To != nil {
			to = a.To.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", a.Serial, a.Property, a.From.Format(time.RFC3339), to, a.Source)
	}
	return tw.Flush()
}

// dash shows an empty value as "-".
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
