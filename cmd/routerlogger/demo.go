package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/routerlogger/routerlogger/ingest/importer"
	"github.com/routerlogger/routerlogger/ingest/reading"
	"github.com/routerlogger/routerlogger/ingest/simulate"
	"github.com/routerlogger/routerlogger/ingest/tokens"
	"github.com/routerlogger/routerlogger/internal/config"
)

func init() {
	commands["demo"] = command{"migrate, simulate a fleet day, import recordings, print usage, serve", runDemo}
}

func runDemo(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "demo", "demo [--data DIR] [flags]")
	cfg := registerServe(f)
	data := f.cfg.String("data", envs("DEMO_DATA"), "../shared/data/mtu-5g",
		"folder of CSV recordings to import, one router per file (skipped when missing)")
	routers := f.cfg.Int("routers", nil, 10, 1, 10_000, "simulated fleet size")
	once := f.cfg.Bool("exit", nil, false, "exit after printing usage instead of serving")
	if err := f.parse(args); err != nil {
		return err
	}
	*cfg.createDB = true
	if f.cfg.Source("log-level") == config.SourceDefault {
		*f.logLevel = "warn" // keep the demo's own output readable
	}
	log := f.logger()

	// Serve first: the simulator posts to the real HTTP API.
	srvCtx, stop := context.WithCancel(ctx)
	defer stop()
	srv, err := startServer(srvCtx, cfg, log, nil)
	if err != nil {
		return err
	}
	out := e.stdout
	fmt.Fprintf(out, "RouterLogger demo: server on %s, database %s\n", describeAddr(srv.Addr), redact(*cfg.databaseURL))

	tok, err := tokens.NewStore(srv.pool, nil, 0).CreateFleet(ctx, "demo")
	if err != nil {
		return err
	}

	// A whole simulated day, yesterday in UTC, so a second run of the demo
	// the same day posts the same readings again and changes nothing. The
	// simulator does not carry counters from one day to the next, so each
	// day's fleet has its own serials (SIM-<day>-000001).
	day := time.Now().UTC().Truncate(24 * time.Hour).Add(-24 * time.Hour)
	simCfg := simulate.Config{
		URL: describeAddr(srv.Addr), Token: tok, Routers: int(*routers), Start: day,
		Duration: 24 * time.Hour, Interval: 5 * time.Minute, Batch: 20, Clients: 4, Seed: 1,
		Prefix: "SIM-" + day.Format("20060102"),
	}
	fmt.Fprintf(out, "\nsimulating %d routers for %s (one reading each 5 minutes, "+
		"with reboots, glitches, late and duplicate deliveries)...\n",
		simCfg.Routers, simCfg.Start.Format("2006-01-02"))
	rep, err := simulate.Run(ctx, simCfg)
	printSimReport(out, rep)
	if err != nil {
		return err
	}

	if err := importFolder(ctx, out, srv, *data); err != nil {
		return err
	}
	if err := printUsage(ctx, out, srv.pool, rep.Truth, day); err != nil {
		return err
	}

	fmt.Fprintf(out, "\nfleet token for your own posts: %s\n", tok)
	fmt.Fprintf(out, "try: curl -H 'Authorization: Bearer %s' -H 'Content-Type: application/json' "+
		"-d '{\"device_id\":\"MY-1\",\"counters\":{\"total_tx_bytes\":1}}' %s/api/v1/telemetry\n",
		tok, describeAddr(srv.Addr))
	if *once {
		stop()
		return srv.wait()
	}
	fmt.Fprintf(out, "serving on %s (metrics at /metrics); press Ctrl-C to stop\n", describeAddr(srv.Addr))
	return srv.wait()
}

// importFolder imports every CSV of dir through the server's writer, one
// router per file named after the file.
func importFolder(ctx context.Context, out io.Writer, srv *server, dir string) error {
	files, _ := filepath.Glob(filepath.Join(dir, "*.csv"))
	if len(files) == 0 {
		fmt.Fprintf(out, "\nno recordings in %s: import skipped (set DATA= to a folder of CSV files)\n", dir)
		return nil
	}
	fmt.Fprintf(out, "\nimporting %d recordings from %s...\n", len(files), dir)
	sort.Strings(files)
	for _, file := range files {
		serial := "MTU-" + strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
		sum, err := importer.Import(ctx, srv.writer, []string{file}, importer.Options{
			Router: serial, Parser: &reading.Parser{}, Logger: srv.log,
		})
		if err != nil {
			return fmt.Errorf("import %s: %w", file, err)
		}
		note := ""
		if sum.Duplicates > 0 {
			note = fmt.Sprintf(" (%d already stored)", sum.Duplicates)
		}
		fmt.Fprintf(out, "  %-32s %5d rows%s, uplink added %d B%s\n", filepath.Base(file), sum.Rows,
			note, sum.TxAdded, eventList(sum.Events))
	}
	return nil
}

// printUsage prints each router's usage from the analyst view, and checks
// each simulated router's usage on the simulated day against the
// simulator's truth.
func printUsage(ctx context.Context, out io.Writer, pool *pgxpool.Pool, truth simulate.Truth, day time.Time) error {
	const q = `SELECT serial, coalesce(name, ''), sum(tx_bytes)::bigint, sum(rx_bytes)::bigint,
			sum(total_bytes)::bigint, sum(samples)::bigint,
			sum(tx_bytes) FILTER (WHERE bucket = $1)::bigint, sum(rx_bytes) FILTER (WHERE bucket = $1)::bigint
		FROM router_usage_daily GROUP BY serial, name ORDER BY serial`
	rows, err := pool.Query(ctx, q, day)
	if err != nil {
		return fmt.Errorf("read usage: %w", err)
	}
	defer rows.Close()

	fmt.Fprintln(out, "\nusage per router, all days (view router_usage_daily; samples = readings that ended an interval):")
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "serial\tname\ttx bytes\trx bytes\ttotal bytes\tsamples\tsimulated day\t")
	mismatches := 0
	for rows.Next() {
		var serial, name string
		var tx, rx, total, n int64
		var dayTx, dayRx *int64
		if err := rows.Scan(&serial, &name, &tx, &rx, &total, &n, &dayTx, &dayRx); err != nil {
			return err
		}
		check := ""
		if rt, ok := truth.Routers[serial]; ok {
			check = "= truth"
			if dayTx == nil || dayRx == nil || rt.TxBytes != *dayTx || rt.RxBytes != *dayRx {
				check = fmt.Sprintf("truth %d/%d", rt.TxBytes, rt.RxBytes)
				mismatches++
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%s\t\n", serial, name, tx, rx, total, n, check)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	tw.Flush()
	if mismatches > 0 {
		return fmt.Errorf("%d simulated routers do not match the simulator's truth for %s "+
			"(were other readings posted for them?)", mismatches, day.Format("2006-01-02"))
	}
	return nil
}

// redact hides the password of a database URL.
func redact(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		if at := strings.Index(u[i+3:], "@"); at >= 0 {
			cred := u[i+3 : i+3+at]
			if c := strings.Index(cred, ":"); c >= 0 {
				return u[:i+3] + cred[:c] + ":xxxxx" + u[i+3+at:]
			}
		}
	}
	return u
}
