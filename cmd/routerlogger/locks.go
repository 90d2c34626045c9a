package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/routerlogger/routerlogger/internal/locks"
)

func init() {
	commands["locks"] = command{"list the locks of sync jobs, or free a stuck one", runLocks}
}

const locksUsage = `locks [list]
       routerlogger locks release NAME`

// lockTime is how lock times are printed: UTC, to the second.
const lockTime = "2006-01-02 15:04:05"

func runLocks(ctx context.Context, e *env, args []string) error {
	sub := "list"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		sub, args = args[0], args[1:]
	}
	if sub == "help" {
		fmt.Fprintln(e.stderr, "Usage: routerlogger "+locksUsage)
		return nil
	}
	if sub != "list" && sub != "release" {
		fmt.Fprintf(e.stderr, "routerlogger locks: unknown subcommand %q\nUsage: routerlogger %s\n",
			sub, locksUsage)
		return errUsage
	}

	f := newFlags(e, "locks "+sub, locksUsage)
	f.args = sub == "release"
	url := f.databaseURL()
	if err := f.parse(args); err != nil {
		return err
	}
	if sub == "release" && f.fs.NArg() != 1 {
		fmt.Fprintln(e.stderr, "Usage: routerlogger locks release NAME")
		return errUsage
	}

	pool, err := openPool(ctx, *url, 2, false)
	if err != nil {
		return err
	}
	defer pool.Close()
	svc, err := locks.New(pool, locks.Options{Logger: f.logger()})
	if err != nil {
		return err
	}

	if sub == "release" {
		return releaseLock(ctx, e, svc, f.fs.Arg(0))
	}
	return listLocks(ctx, e, svc)
}

// listLocks prints the held locks as a table.
func listLocks(ctx context.Context, e *env, svc *locks.Service) error {
	list, err := svc.List(ctx)
	if err != nil {
		return err
	}

	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tHOLDER\tACQUIRED\tRENEWED")
	for _, l := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", l.Name, l.Holder,
			l.AcquiredAt.UTC().Format(lockTime), l.RenewedAt.UTC().Format(lockTime))
	}
	return tw.Flush()
}

// releaseLock frees one lock by force; the service logs the warning.
func releaseLock(ctx context.Context, e *env, svc *locks.Service, name string) error {
	info, err := svc.Release(ctx, name)
	if err != nil {
		return fmt.Errorf("%w (see routerlogger locks)", err)
	}

	fmt.Fprintf(e.stderr, "warning: lock %q was held by %s since %s; if that holder still runs, "+
		"it stops at its next renewal, and until then two instances may run the job\n",
		name, info.Holder, info.AcquiredAt.UTC().Format(lockTime))
	fmt.Fprintf(e.stdout, "lock %s released\n", name)
	return nil
}
