package plugin

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/routerlogger/routerlogger/grafana-plugin/pkg/models"
)

// ReaderRole is the role every query runs as, whatever the login role.
const ReaderRole = "routerlogger_reader"

// applicationName is how the plugin's sessions appear in pg_stat_activity.
const applicationName = "routerlogger-grafana"

// connectTimeout bounds each connection attempt.
const connectTimeout = 5 * time.Second

// acquireGrace is how long a query may wait for a free connection on top
// of the statement timeout.
const acquireGrace = 10 * time.Second

// newPool returns a pool for the settings. It does not connect: the first
// query or health check does.
func newPool(s models.Settings) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(connString(s))
	if err != nil {
		return nil, fmt.Errorf("connection settings: %w", err)
	}
	cfg.MaxConns = int32(s.MaxOpenConns)
	cfg.MinConns = 0
	cfg.MaxConnIdleTime = 5 * time.Minute
	cfg.MaxConnLifetime = time.Hour
	return pgxpool.NewWithConfig(context.Background(), cfg)
}

// connString is the libpq keyword/value string for the settings, every
// value quoted.
func connString(s models.Settings) string {
	kv := [][2]string{
		{"host", s.HostName()},
		{"port", strconv.Itoa(int(s.Port()))},
		{"dbname", s.Database},
		{"user", s.User},
		{"sslmode", s.SSLMode},
		{"connect_timeout", strconv.Itoa(int(connectTimeout.Seconds()))},
		{"application_name", applicationName},
	}
	if s.Password != "" {
		kv = append(kv, [2]string{"password", s.Password})
	}
	parts := make([]string, len(kv))
	for i, p := range kv {
		v := strings.ReplaceAll(strings.ReplaceAll(p[1], `\`, `\\`), `'`, `\'`)
		parts[i] = p[0] + "='" + v + "'"
	}
	return strings.Join(parts, " ")
}

// readOnly runs fn on a connection inside a READ ONLY transaction, as
// [ReaderRole], with the statement timeout of the settings. The
// transaction is always rolled back. When fn may have taken session
// advisory locks (raw SQL), they are released too.
func (d *Datasource) readOnly(ctx context.Context, fn func(ctx context.Context, c *pgx.Conn) error) error {
	ctx, cancel := context.WithTimeout(ctx, d.settings.QueryTimeout()+acquireGrace)
	defer cancel()

	conn, err := d.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()

	begin := fmt.Sprintf("BEGIN READ ONLY; SET LOCAL ROLE %s; SET LOCAL statement_timeout = %d",
		ReaderRole, d.settings.QueryTimeout().Milliseconds())
	_, err = conn.Exec(ctx, begin)
	if err == nil {
		err = fn(ctx, conn.Conn())
	}

	// A fresh context, so that a cancelled query still ends its
	// transaction; a connection left inside one is closed by the pool.
	endCtx, endCancel := context.WithTimeout(context.WithoutCancel(ctx), connectTimeout)
	defer endCancel()
	_, endErr := conn.Exec(endCtx, "ROLLBACK; SELECT pg_advisory_unlock_all()")
	if err != nil {
		return err
	}
	return endErr
}

// selectRows runs sql with LIMIT maxRows+1 appended and scans every row.
// It reports whether the result had more than maxRows rows; only the
// first maxRows are returned then.
func selectRows[T any](ctx context.Context, c *pgx.Conn, maxRows int, sql string, args []any,
	scan func(pgx.CollectableRow) (T, error)) ([]T, bool, error) {
	rows, err := c.Query(ctx, sql+" LIMIT "+strconv.Itoa(maxRows+1), args...)
	if err != nil {
		return nil, false, err
	}
	out, err := pgx.CollectRows(rows, scan)
	if err != nil {
		return nil, false, err
	}
	if len(out) > maxRows {
		return out[:maxRows], true, nil
	}
	return out, false, nil
}

// selectAll is selectRows on the datasource's pool in a read-only
// transaction, with the settings' row limit.
func selectAll[T any](ctx context.Context, d *Datasource, sql string, args []any,
	scan func(pgx.CollectableRow) (T, error)) (rows []T, truncated bool, err error) {
	return selectMax(ctx, d, d.settings.MaxRows, sql, args, scan)
}

// selectMax is selectAll with a row limit of its own.
func selectMax[T any](ctx context.Context, d *Datasource, maxRows int, sql string, args []any,
	scan func(pgx.CollectableRow) (T, error)) (rows []T, truncated bool, err error) {
	err = d.readOnly(ctx, func(ctx context.Context, c *pgx.Conn) error {
		var qerr error
		rows, truncated, qerr = selectRows(ctx, c, maxRows, sql, args, scan)
		return qerr
	})
	return rows, truncated, err
}
