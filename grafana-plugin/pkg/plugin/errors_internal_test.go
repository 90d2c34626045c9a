package plugin

import (
	"context"
	"fmt"
	"net"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/routerlogger/routerlogger/grafana-plugin/pkg/models"
)

func TestConnectReason(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"wrong password", fmt.Errorf("connect: %w", &pgconn.PgError{Code: "28P01", Message: "x"}),
			"password authentication failed — check the datasource password"},
		{"no database", &pgconn.PgError{Code: "3D000"}, "database rl does not exist — check the database name"},
		{"no slots", &pgconn.PgError{Code: "53300"}, "the server has no connection slots left"},
		{"refused", fmt.Errorf("dial: %w", syscall.ECONNREFUSED), "connection refused — is PostgreSQL running"},
		{"timeout", fmt.Errorf("dial: %w", context.DeadlineExceeded), "no answer within 5s"},
		{"unknown host", &net.DNSError{Name: "pg.invalid", Err: "no such host"}, "host name pg.invalid not found"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := connectReason(c.err, "rl", "grafana"); len(got) < len(c.want) || got[:len(c.want)] != c.want {
				t.Errorf("got %q, want it to start %q", got, c.want)
			}
		})
	}
}

func TestDatasource_ConnectMessage(t *testing.T) {
	d := &Datasource{settings: models.Settings{Host: "127.0.0.1:5432", User: "routerlogger_grafana"}}
	got := d.connectMessage(fmt.Errorf("connect: %w", &pgconn.PgError{Code: "28P01"}))
	want := "cannot connect to 127.0.0.1:5432 as routerlogger_grafana: password authentication failed — " +
		"check the datasource password"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
