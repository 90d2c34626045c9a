package db

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	sqlfiles "github.com/routerlogger/routerlogger/sql"
)

// Mode is the storage flavour of a database, fixed at its first migration.
type Mode string

// The two storage modes.
const (
	ModePlain     Mode = "plain"
	ModeTimescale Mode = "timescale"
)

// The TimescaleDB choices for [Migrate].
const (
	TimescaleAuto = "auto" // use the extension when the server can load it
	TimescaleOn   = "on"   // require it
	TimescaleOff  = "off"  // never use it
)

// migrateLock is the advisory lock key that serialises migrations across
// instances; the value is arbitrary but must never change.
const migrateLock = 7_206_345_001

// Migration is one numbered schema step.
type Migration struct {
	Version int
	Name    string
	common  string
	plain   string
	tsdb    string
}

var fileName = regexp.MustCompile(`^(\d{4})_([a-z0-9_]+?)(\.plain|\.timescale)?\.sql$`)

// Migrations returns the embedded migrations in version order.
func Migrations() ([]Migration, error) {
	entries, err := fs.ReadDir(sqlfiles.Migrations, "migrations")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}

	byVersion := map[int]*Migration{}
	for _, e := range entries {
		m := fileName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migration %q: name is not NNNN_name[.plain|.timescale].sql", e.Name())
		}
		body, err := fs.ReadFile(sqlfiles.Migrations, "migrations/"+e.Name())
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		v, _ := strconv.Atoi(m[1])
		mig := byVersion[v]
		if mig == nil {
			mig = &Migration{Version: v, Name: m[2]}
			byVersion[v] = mig
		}
		switch m[3] {
		case "":
			mig.common = string(body)
		case ".plain":
			mig.plain = string(body)
		default:
			mig.tsdb = string(body)
		}
	}

	var out []Migration
	for _, m := range byVersion {
		out = append(out, *m)
	}
	slices.SortFunc(out, func(a, b Migration) int { return a.Version - b.Version })
	return out, nil
}

// Migrate applies every migration the database lacks, each in its own
// transaction, while holding a session advisory lock. timescale is one of
// [TimescaleAuto], [TimescaleOn] or [TimescaleOff]; it matters only for a
// database that has no migrations yet, since the mode is fixed then.
func Migrate(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger, timescale string) (Mode, error) {
	migs, err := Migrations()
	if err != nil {
		return "", err
	}

	conn, err := pool.Acquire(ctx)
	if err != nil {
		return "", fmt.Errorf("migrate: acquire connection: %w", err)
	}
	defer conn.Release()

	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrateLock); err != nil {
		return "", fmt.Errorf("migrate: take lock: %w", err)
	}
	defer func() {
		// A fresh context: the lock must go even when ctx was cancelled.
		_, uerr := conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrateLock)
		if uerr != nil {
			log.Warn("migrate: release lock", "error", uerr)
		}
	}()

	c := conn.Conn()
	if _, err := c.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer PRIMARY KEY,
		name       text NOT NULL,
		mode       text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return "", fmt.Errorf("migrate: create schema_migrations: %w", err)
	}

	mode, err := chooseMode(ctx, c, timescale)
	if err != nil {
		return "", err
	}

	applied := map[int]bool{}
	rows, _ := c.Query(ctx, "SELECT version FROM schema_migrations")
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return "", fmt.Errorf("migrate: read applied versions: %w", err)
	}
	for _, v := range versions {
		applied[int(v)] = true
	}

	for _, m := range migs {
		if applied[m.Version] {
			continue
		}
		if err := apply(ctx, c, m, mode); err != nil {
			return "", err
		}
		log.Info("migration applied", "version", m.Version, "name", m.Name, "mode", mode)
	}
	return mode, nil
}

// chooseMode returns the mode recorded by the first migration, or decides
// it for a new database.
func chooseMode(ctx context.Context, c *pgx.Conn, timescale string) (Mode, error) {
	var recorded string
	err := c.QueryRow(ctx, "SELECT mode FROM schema_migrations ORDER BY version LIMIT 1").Scan(&recorded)
	if err == nil {
		return Mode(recorded), nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("migrate: read mode: %w", err)
	}

	switch timescale {
	case TimescaleOff:
		return ModePlain, nil
	case TimescaleAuto, TimescaleOn, "":
	default:
		return "", fmt.Errorf("migrate: timescale option %q: want auto, on or off", timescale)
	}

	// CREATE EXTENSION without the library preloaded ends the session with
	// a FATAL error, so ask the server first.
	var loadable bool
	const q = `SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb')
		AND current_setting('shared_preload_libraries') ~ '(^|[\s,])timescaledb($|[\s,])'`
	if err := c.QueryRow(ctx, q).Scan(&loadable); err != nil {
		return "", fmt.Errorf("migrate: look for timescaledb: %w", err)
	}
	if !loadable {
		if timescale == TimescaleOn {
			return "", errors.New("migrate: timescaledb required but not installed and preloaded")
		}
		return ModePlain, nil
	}
	if _, err := c.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS timescaledb"); err != nil {
		return "", fmt.Errorf("migrate: create extension timescaledb: %w", err)
	}
	return ModeTimescale, nil
}

// apply runs one migration and records it, in one transaction.
func apply(ctx context.Context, c *pgx.Conn, m Migration, mode Mode) error {
	tx, err := c.Begin(ctx)
	if err != nil {
		return fmt.Errorf("migration %04d: begin: %w", m.Version, err)
	}
	defer tx.Rollback(ctx)

	parts := []string{m.common}
	if mode == ModeTimescale {
		parts = append(parts, m.tsdb)
	} else {
		parts = append(parts, m.plain)
	}
	for _, sql := range parts {
		if strings.TrimSpace(sql) == "" {
			continue
		}
		if _, err := tx.Exec(ctx, sql); err != nil {
			return fmt.Errorf("migration %04d_%s: %w", m.Version, m.Name, describe(err))
		}
	}

	const record = "INSERT INTO schema_migrations (version, name, mode) VALUES ($1, $2, $3)"
	if _, err := tx.Exec(ctx, record, m.Version, m.Name, string(mode)); err != nil {
		return fmt.Errorf("migration %04d: record: %w", m.Version, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("migration %04d: commit: %w", m.Version, err)
	}
	return nil
}

// describe adds the server's position and detail to a PostgreSQL error.
func describe(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Position > 0 {
		return fmt.Errorf("%w (at character %d)", err, pgErr.Position)
	}
	return err
}

// SchemaStatus is what [Check] reports.
type SchemaStatus struct {
	Current int
	Latest  int
	Mode    Mode
}

// Check reports the applied and the embedded schema versions and returns
// [ErrNotMigrated] when the database is behind.
func Check(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) (SchemaStatus, error) {
	migs, err := Migrations()
	if err != nil {
		return SchemaStatus{}, err
	}
	st := SchemaStatus{Latest: migs[len(migs)-1].Version}

	var mode *string
	var applied []int32
	const q1 = `SELECT coalesce(max(version), 0), min(mode), coalesce(array_agg(version), '{}') FROM schema_migrations`
	if err := q.QueryRow(ctx, q1).Scan(&st.Current, &mode, &applied); err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "42P01" {
			return st, ErrNotMigrated
		}
		return st, fmt.Errorf("read schema version: %w", err)
	}
	if mode != nil {
		st.Mode = Mode(*mode)
	}
	// Every embedded migration must be applied, not only the newest: a
	// migration numbered below one already applied still runs at migrate.
	for _, m := range migs {
		if !slices.Contains(applied, int32(m.Version)) {
			return st, ErrNotMigrated
		}
	}
	return st, nil
}
