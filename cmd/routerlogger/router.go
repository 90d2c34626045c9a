package main

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"
)

func init() {
	commands["router"] = command{
		"list routers, set a router's name and counter width, find and merge duplicates", runRouter}
}

const routerUsage = `router list
       routerlogger router set SERIAL [--counter-bits 32|64] [--name NAME]
       routerlogger router duplicates
       routerlogger router merge KEEP DUP [--dry-run]`

func runRouter(ctx context.Context, e *env, args []string) error {
	if done, err := subcommandHelp(e, args, routerUsage); done {
		return err
	}
	sub, args := args[0], args[1:]
	if sub == "merge" || sub == "duplicates" {
		return runRouterMerge(ctx, e, sub, args)
	}
	var serial string
	if sub == "set" && len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		serial, args = args[0], args[1:]
	}

	f := newFlags(e, "router "+sub, routerUsage)
	f.args = sub == "set"
	url := f.databaseURL()
	bits := f.cfg.Int("counter-bits", nil, 0, 0, 64, "declared counter width: 32 or 64")
	name := f.cfg.String("name", nil, "", "display name")
	if err := f.parse(args); err != nil {
		return err
	}
	pool, err := openPool(ctx, *url, 2, false)
	if err != nil {
		return err
	}
	defer pool.Close()

	switch sub {
	case "list":
		rows, err := pool.Query(ctx, `SELECT serial, coalesce(name, ''), coalesce(model, ''),
			counter_bits, last_seen FROM routers ORDER BY serial`)
		if err != nil {
			return fmt.Errorf("list routers: %w", err)
		}
		defer rows.Close()
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SERIAL\tNAME\tMODEL\tBITS\tLAST SEEN")
		for rows.Next() {
			var s, n, m string
			var b int16
			var seen *time.Time
			if err := rows.Scan(&s, &n, &m, &b, &seen); err != nil {
				return err
			}
			last := "-"
			if seen != nil {
				last = seen.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", s, n, m, b, last)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		return tw.Flush()

	case "set":
		if serial == "" && f.fs.NArg() == 1 {
			serial = f.fs.Arg(0) // flags came first
		}
		if serial == "" || f.fs.NArg() > 1 {
			fmt.Fprintln(e.stderr, "Usage: routerlogger "+routerUsage)
			return errUsage
		}
		if *bits != 0 && *bits != 32 && *bits != 64 {
			return fmt.Errorf("--counter-bits=%d: want 32 or 64", *bits)
		}
		if *bits == 0 && *name == "" {
			return errors.New("router set: nothing to change: give --counter-bits or --name")
		}
		const q = `UPDATE routers SET
				counter_bits = CASE WHEN $2 = 0 THEN counter_bits ELSE $2 END,
				name = coalesce(nullif($3, ''), name)
			WHERE serial = $1`
		tag, err := pool.Exec(ctx, q, serial, *bits, *name)
		if err != nil {
			return fmt.Errorf("update router: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("router %q not found", serial)
		}
		fmt.Fprintf(e.stdout, "router %s updated\n", serial)
		return nil
	}
	fmt.Fprintf(e.stderr, "routerlogger router: unknown subcommand %q\n", sub)
	return errUsage
}
