package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/routerlogger/routerlogger/internal/config"
	"github.com/routerlogger/routerlogger/internal/db"
)

// env is what a subcommand may touch of the process.
type env struct {
	getenv func(string) string
	stdout io.Writer
	stderr io.Writer
	// stdinTTY and stderrTTY are set when those are terminals.
	stderrTTY bool
}

type command struct {
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

// commands is filled by each subcommand's file.
var commands = map[string]command{}

// errUsage marks a command line the user must fix; the message was printed.
var errUsage = errors.New("usage")

// run is the whole program, with the process's parts passed in so tests
// can call it without re-executing the binary.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	e := &env{getenv: getenv, stdout: stdout, stderr: stderr, stderrTTY: isTerminal(stderr)}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printHelp(stdout)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "routerlogger: unknown command %q\n\n", args[0])
		printHelp(stderr)
		return errUsage
	}
	return cmd.run(ctx, e, args[1:])
}

func printHelp(w io.Writer) {
	fmt.Fprintln(w, "RouterLogger: telemetry and operations for a fleet of cellular routers.")
	fmt.Fprintln(w, "\nUsage: routerlogger <command> [flags]\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun `routerlogger <command> --help` for a command's flags and environment.")
}

// exitCode prints err, once, and maps it to the process exit code.
func exitCode(err error, stderr io.Writer) int {
	var cfgErr *config.Error
	switch {
	case err == nil || errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	case errors.As(err, &cfgErr):
		fmt.Fprintln(stderr, "routerlogger:", err)
		return 2
	default:
		fmt.Fprintln(stderr, "routerlogger:", err)
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "42P01" { // undefined_table
			fmt.Fprintln(stderr, "(is the database migrated? run `routerlogger migrate` with the same DATABASE_URL)")
		}
		return 1
	}
}

// subcommandHelp prints usage for a command with subcommands when args
// name none (an error) or ask for help (not an error); done reports
// whether it answered.
func subcommandHelp(e *env, args []string, usage string) (done bool, err error) {
	if len(args) > 0 && args[0] != "-h" && args[0] != "--help" && args[0] != "help" {
		return false, nil
	}
	fmt.Fprintln(e.stderr, "Usage: routerlogger "+usage)
	if len(args) == 0 {
		return true, errUsage
	}
	return true, nil
}

// flags is a subcommand's flag set bound to the config parser.
type flags struct {
	fs  *flag.FlagSet
	cfg *config.Set
	e   *env

	logLevel  *string
	logFormat *string
	// args is set by commands that take positional arguments.
	args bool
	// checks validate settings against each other after they resolved.
	checks []func() error
}

func newFlags(e *env, name, usage string) *flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	f := &flags{fs: fs, cfg: config.NewSet(fs, e.getenv), e: e}
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: routerlogger %s\n\n", usage)
		fs.PrintDefaults()
	}
	f.logLevel = f.cfg.Enum("log-level", envs("LOG_LEVEL"), "info",
		[]string{"debug", "info", "warn", "error"}, "log level")
	f.logFormat = f.cfg.Enum("log-format", envs("LOG_FORMAT"), "text",
		[]string{"text", "json"}, "log format")
	return f
}

// envs returns the ROUTERLOGGER_ names of a setting.
func envs(names ...string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = "ROUTERLOGGER_" + n
	}
	return out
}

// parse parses args and resolves every setting; a bad value is one line.
func (f *flags) parse(args []string) error {
	if err := f.fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if !f.args && f.fs.NArg() > 0 {
		fmt.Fprintf(f.e.stderr, "routerlogger %s: unexpected argument %q\n", f.fs.Name(), f.fs.Arg(0))
		f.fs.Usage()
		return errUsage
	}
	if err := f.cfg.Resolve(); err != nil {
		return err
	}
	for _, check := range f.checks {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

// settingError is a bad value of a setting that passed its own parser,
// named the way the user supplied it (flag or environment variable).
func (f *flags) settingError(name, value, reason string) error {
	src := f.cfg.Source(name)
	if src == config.SourceDefault {
		src = "--" + name
	}
	return &config.Error{Name: src, Value: value, Reason: reason}
}

// logger builds the process logger from the log flags.
func (f *flags) logger() *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(*f.logLevel))
	opts := &slog.HandlerOptions{Level: level}
	if *f.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(f.e.stderr, opts))
	}
	return slog.New(slog.NewTextHandler(f.e.stderr, opts))
}

// defaultDatabaseURL is the local server the demo and tests use.
const defaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/routerlogger?sslmode=disable"

// databaseURL registers the database setting.
func (f *flags) databaseURL() *string {
	return f.cfg.URL("database-url", []string{"ROUTERLOGGER_DATABASE_URL", "DATABASE_URL"},
		defaultDatabaseURL, []string{"postgres", "postgresql"}, "PostgreSQL connection URL")
}

// openPool opens the pool, creating the database first when asked.
func openPool(ctx context.Context, url string, maxConns int32, create bool) (*pgxpool.Pool, error) {
	if create {
		if err := db.EnsureDatabase(ctx, url); err != nil {
			return nil, err
		}
	}
	pool, err := db.Open(ctx, url, maxConns)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "3D000" {
		return nil, fmt.Errorf("%w\n(create and migrate it with `routerlogger migrate`)", err)
	}
	return pool, err
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// lastLine trims s to its last line, for tokens printed alone.
func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
