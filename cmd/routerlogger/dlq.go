package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/routerlogger/routerlogger/ingest/webhook"
	"github.com/routerlogger/routerlogger/internal/jobs"
)

func init() {
	commands["dlq"] = command{"list, show, replay or discard dead-lettered webhook events", runDLQ}
}

const dlqUsage = `dlq list [--limit N]
       routerlogger dlq show EVENT_ID
       routerlogger dlq replay [--force] EVENT_ID
       routerlogger dlq discard EVENT_ID`

func runDLQ(ctx context.Context, e *env, args []string) error {
	if done, err := subcommandHelp(e, args, dlqUsage); done {
		return err
	}
	sub, args := args[0], args[1:]
	pos, args := leadingArgs(args) // `replay 14 --force` as well as `replay --force 14`
	f := newFlags(e, "dlq "+sub, dlqUsage)
	f.args = sub == "show" || sub == "replay" || sub == "discard"
	url := f.databaseURL()
	limit := f.cfg.Int("limit", nil, 100, 1, 100_000, "most dead letters to list")
	force := f.cfg.Bool("force", nil, false, "replay a discarded event too")
	if err := f.parse(args); err != nil {
		return err
	}
	pos = append(pos, f.fs.Args()...)

	pool, err := openPool(ctx, *url, 2, false)
	if err != nil {
		return err
	}
	defer pool.Close()
	rt, err := jobs.New(pool, jobs.Config{}) // insert-only: replays enqueue
	if err != nil {
		return err
	}
	q := &webhook.DLQ{DB: pool, Jobs: rt.Client(), Log: f.logger()}

	switch sub {
	case "list":
		list, err := q.List(ctx, int(*limit))
		if err != nil {
			return err
		}
		if len(list) == 0 {
			// On stderr: stdout stays one event a line, for scripts.
			fmt.Fprintln(e.stderr, "the dead-letter queue is empty")
		}
		for _, d := range list {
			fmt.Fprintf(e.stdout, "%d\t%s\t%s\t%s\tattempts=%d\tfailed=%s\t%s\n", d.EventID, d.Type, d.SessionID,
				d.EventAt.UTC().Format(time.RFC3339), d.Attempts, d.FailedAt.UTC().Format(time.RFC3339), d.LastError)
		}
		return nil

	case "show", "replay", "discard":
		if len(pos) != 1 {
			fmt.Fprintln(e.stderr, "Usage: routerlogger "+dlqUsage)
			return errUsage
		}
		id, err := strconv.ParseInt(pos[0], 10, 64)
		if err != nil {
			return fmt.Errorf("dlq %s: EVENT_ID must be a whole number, as dlq list shows", sub)
		}
		switch sub {
		case "replay":
			return replayDeadLetter(ctx, e, q, id, *force)
		case "discard":
			return discardDeadLetter(ctx, e, q, id)
		}
		return showDeadLetter(ctx, e, q, id)
	}
	fmt.Fprintf(e.stderr, "routerlogger dlq: unknown subcommand %q\nUsage: routerlogger %s\n", sub, dlqUsage)
	return errUsage
}

func replayDeadLetter(ctx context.Context, e *env, q *webhook.DLQ, id int64, force bool) error {
	queued, err := q.Replay(ctx, id, force)
	if errors.Is(err, webhook.ErrNotDeadLettered) {
		return fmt.Errorf("event %d is not in the dead-letter queue (see routerlogger dlq list)", id)
	}
	if errors.Is(err, webhook.ErrDiscarded) {
		return fmt.Errorf("event %d was discarded; replay it with dlq replay --force %d", id, id)
	}
	if err != nil {
		return err
	}
	if !queued {
		fmt.Fprintf(e.stdout, "event %d was already replayed; nothing queued\n", id)
		return nil
	}
	fmt.Fprintf(e.stdout, "event %d queued again\n", id)
	return nil
}

func discardDeadLetter(ctx context.Context, e *env, q *webhook.DLQ, id int64) error {
	changed, err := q.Discard(ctx, id)
	if errors.Is(err, webhook.ErrNotDeadLettered) {
		return fmt.Errorf("event %d is not in the dead-letter queue (see routerlogger dlq list)", id)
	}
	if err != nil {
		return err
	}
	if !changed {
		fmt.Fprintf(e.stdout, "event %d was already discarded\n", id)
		return nil
	}
	fmt.Fprintf(e.stdout, "event %d discarded; dlq replay --force %d runs it again\n", id, id)
	return nil
}

func showDeadLetter(ctx context.Context, e *env, q *webhook.DLQ, id int64) error {
	d, err := q.Get(ctx, id)
	if errors.Is(err, webhook.ErrNotDeadLettered) {
		return fmt.Errorf("event %d is not in the dead-letter queue (see routerlogger dlq list)", id)
	}
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "event\t%d\ntype\t%s\nsession\t%s\nevent at\t%s\njob\t%d\nattempts\t%d\n"+
		"failed at\t%s\nlast error\t%s\n", d.EventID, d.Type, d.SessionID, d.EventAt.UTC().Format(time.RFC3339),
		d.JobID, d.Attempts, d.FailedAt.UTC().Format(time.RFC3339), d.LastError)
	return tw.Flush()
}
