package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"text/tabwriter"

	"github.com/routerlogger/routerlogger/ingest/tokens"
)

func init() {
	commands["token"] = command{"create, list or revoke API tokens", runToken}
}

const tokenUsage = `token create --fleet | --router SERIAL [--note TEXT]
       routerlogger token list
       routerlogger token revoke ID`

func runToken(ctx context.Context, e *env, args []string) error {
	if done, err := subcommandHelp(e, args, tokenUsage); done {
		return err
	}
	sub, args := args[0], args[1:]

	f := newFlags(e, "token "+sub, tokenUsage)
	f.args = sub == "revoke"
	url := f.databaseURL()
	fleet := f.cfg.Bool("fleet", nil, false, "create a fleet-wide token (posts for any serial, registers new routers)")
	router := f.cfg.String("router", nil, "",
		"create a token bound to this router serial (registers the router if it is new)")
	note := f.cfg.String("note", nil, "", "a note stored with the token")
	if err := f.parse(args); err != nil {
		return err
	}

	pool, err := openPool(ctx, *url, 2, false)
	if err != nil {
		return err
	}
	defer pool.Close()
	store := tokens.NewStore(pool, nil, 0)

	switch sub {
	case "create":
		var tok string
		switch {
		case *fleet == (*router != ""):
			fmt.Fprintln(e.stderr, "routerlogger token create: give exactly one of --fleet or --router SERIAL")
			return errUsage
		case *fleet:
			tok, err = store.CreateFleet(ctx, *note)
		default:
			tok, err = store.CreateRouter(ctx, *router, *note)
		}
		if err != nil {
			return err
		}
		fmt.Fprintln(e.stderr, "new token; it is shown only once:")
		fmt.Fprintln(e.stdout, tok)
		return nil

	case "list":
		list, err := store.List(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSCOPE\tROUTER\tCREATED\tREVOKED\tNOTE")
		for _, t := range list {
			revoked := "-"
			if t.RevokedAt != nil {
				revoked = t.RevokedAt.UTC().Format("2006-01-02 15:04")
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Scope, t.Router,
				t.CreatedAt.UTC().Format("2006-01-02 15:04"), revoked, t.Note)
		}
		return tw.Flush()

	case "revoke":
		if f.fs.NArg() != 1 {
			fmt.Fprintln(e.stderr, "Usage: routerlogger token revoke ID")
			return errUsage
		}
		id, err := strconv.ParseInt(f.fs.Arg(0), 10, 64)
		if err != nil {
			return errors.New("token revoke: ID must be a whole number, as shown by token list")
		}
		if err := store.Revoke(ctx, id); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "token %d revoked\n", id)
		return nil
	}
	fmt.Fprintf(e.stderr, "routerlogger token: unknown subcommand %q\nUsage: routerlogger %s\n", sub, tokenUsage)
	return errUsage
}
