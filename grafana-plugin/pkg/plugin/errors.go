package plugin

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/jackc/pgx/v5/pgconn"
)

// grantedViews are the relations routerlogger_reader may read, for error
// messages.
const grantedViews = "router_usage_hourly, router_usage_daily, fleet_usage_hourly, " +
	"fleet_usage_daily, router_latest, router_events, router_signal, ingest_health"

// queryError turns the error of a query into a per-query response with a
// message a person can act on.
func (d *Datasource) queryError(ctx context.Context, queryType string, err error) backend.DataResponse {
	status, msg := d.describe(ctx, err)
	d.log.Debug("query failed", "queryType", queryType, "error", err)
	return errorResponse(status, backend.ErrorSourceDownstream, fmt.Errorf("%s query: %s", queryType, msg))
}

// describe returns the status and message for a query error.
func (d *Datasource) describe(ctx context.Context, err error) (backend.Status, string) {
	if ctx.Err() != nil {
		return backend.StatusTimeout, "canceled by Grafana before it finished (" + ctx.Err().Error() + ")"
	}
	if connectFailed(err) {
		return backend.StatusBadGateway, d.connectMessage(err)
	}

	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		if errors.Is(err, context.DeadlineExceeded) {
			return backend.StatusTimeout, fmt.Sprintf("no free database connection or answer within %s "+
				"(maxOpenConns %d): the database is overloaded or unreachable",
				d.settings.QueryTimeout()+acquireGrace, d.settings.MaxOpenConns)
		}
		return backend.StatusInternal, err.Error()
	}

	if setRoleFailed(pgErr) {
		u := d.settings.User
		return backend.StatusForbidden, pgErr.Message + ": the datasource user " + u +
			" must be a member of " + ReaderRole + " (GRANT " + ReaderRole + " TO " + u + ")"
	}
	switch pgErr.Code {
	case "57014": // query_canceled, here by statement_timeout
		return backend.StatusTimeout, fmt.Sprintf("stopped after %d s, the datasource's query timeout "+
			"(queryTimeoutSeconds): narrow the time range or the query, or raise the timeout",
			d.settings.QueryTimeoutSeconds)
	case "42501": // insufficient_privilege
		return backend.StatusForbidden, pgErr.Message + ": queries run as " + ReaderRole +
			", which may read only " + grantedViews
	case "25006": // read_only_sql_transaction
		return backend.StatusForbidden, pgErr.Message + ": the datasource only reads; queries run " +
			"in a READ ONLY transaction"
	case "42P01", "42883": // undefined_table, undefined_function
		return backend.StatusBadRequest, pgErr.Message + " (is the database migrated? " +
			"run routerlogger migrate)"
	}
	return backend.StatusBadRequest, "postgres: " + pgErr.Message + detail(pgErr)
}

// setRoleFailed reports whether e is SET ROLE failing: the login role is
// not a member of the reader role, or the reader role does not exist.
func setRoleFailed(e *pgconn.PgError) bool {
	return (e.Code == "42501" && strings.Contains(e.Message, "set role")) ||
		(e.Code == "22023" && strings.Contains(e.Message, "role"))
}

// detail adds the server's detail and hint, when it gave them.
func detail(e *pgconn.PgError) string {
	var b strings.Builder
	if e.Detail != "" {
		b.WriteString(" (" + e.Detail + ")")
	}
	if e.Hint != "" {
		b.WriteString(" hint: " + e.Hint)
	}
	return b.String()
}

// connectFailed reports whether err is a failure to open a connection.
func connectFailed(err error) bool {
	var ce *pgconn.ConnectError
	return errors.As(err, &ce)
}

// connectMessage says why the datasource could not connect and what to
// check, such as "cannot connect to 127.0.0.1:5432 as routerlogger_grafana:
// password authentication failed — check the datasource password".
func (d *Datasource) connectMessage(err error) string {
	s := d.settings
	return fmt.Sprintf("cannot connect to %s as %s: %s", s.Host, s.User,
		connectReason(err, s.Database, s.User))
}

// connectReason is the cause part of connectMessage.
func connectReason(err error, database, user string) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "28P01": // invalid_password
			return "password authentication failed — check the datasource password"
		case "28000": // invalid_authorization_specification
			return pgErr.Message + " — check the user (create it with CREATE ROLE " + user +
				" LOGIN PASSWORD '...' IN ROLE " + ReaderRole + ") and the server's pg_hba.conf"
		case "3D000": // invalid_catalog_name
			return "database " + database + " does not exist — check the database name"
		case "53300": // too_many_connections
			return "the server has no connection slots left — lower maxOpenConns or raise max_connections"
		}
		return pgErr.Message
	}

	var netErr net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused — is PostgreSQL running and listening on that address?"
	case errors.As(err, &netErr) && netErr.Timeout(), errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("no answer within %s — check the host, port and firewall", connectTimeout)
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return "host name " + dnsErr.Name + " not found — check the host"
	}
	return unwrapConnect(err)
}

// unwrapConnect returns the innermost message of a connect error, without
// pgx's repetition of the address.
func unwrapConnect(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		err = next
	}
}
