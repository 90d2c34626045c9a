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

const tokenUsage = `token create --fleet | --router SERIAL | --admin | --portal NAME [--note TEXT]
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
	admin := f.cfg.Bool("admin", nil, false, "create an admin token (dead-letter queue endpoints)")
	portal := f.cfg.String("portal", nil, "",
		"create a bearer token for the captive portal NAME (used when ROUTERLOGGER_PORTAL_BEARER is on)")
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
		tok, err := createToken(ctx, e, store, *fleet, *admin, *router, *portal, *note)
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

// createToken issues the one kind of token the flags ask for.
func createToken(ctx context.Context, e *env, store *tokens.Store, fleet, admin bool,
	router, portal, note string) (string, error) {
	kinds := 0
	for _, set := range []bool{fleet, admin, router != "", portal != ""} {
		if set {
			kinds++
		}
	}
	if kinds != 1 {
		fmt.Fprintln(e.stderr,
			"routerlogger token create: give exactly one of --fleet, --router SERIAL, --admin or --portal NAME")
		return "", errUsage
	}

	switch {
	case fleet:
		return store.CreateFleet(ctx, note)
	case admin:
		return store.CreateAdmin(ctx, note)
	case portal != "":
		return store.CreatePortal(ctx, portal)
	}
	return store.CreateRouter(ctx, router, note)
}
