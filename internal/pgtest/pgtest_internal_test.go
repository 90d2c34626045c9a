package pgtest

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// fakeTB records Fatal and Skip calls; both end the calling goroutine as the
// real ones do.
type fakeTB struct {
	testing.TB
	failed, skipped bool
	msg             string
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Fatal(args ...any) {
	f.failed, f.msg = true, fmt.Sprint(args...)
	runtime.Goexit()
}

func (f *fakeTB) Skip(args ...any) {
	f.skipped, f.msg = true, fmt.Sprint(args...)
	runtime.Goexit()
}

// runFake runs fn with a fakeTB in its own goroutine and waits for it.
func runFake(t *testing.T, fn func(tb testing.TB)) *fakeTB {
	t.Helper()

	f := &fakeTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done

	return f
}

// closedPortDSN returns a DSN for a 127.0.0.1 port nobody listens on.
func closedPortDSN(t *testing.T) string {
	t.Helper()

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()

	return fmt.Sprintf("postgres://postgres:hunter2@127.0.0.1:%d/postgres?sslmode=disable", port)
}

// connect opens a connection closed at cleanup.
func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect %s: %v", redactDSN(dsn), err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })

	return conn
}

func TestDSN(t *testing.T) {
	down := closedPortDSN(t)
	tests := []struct {
		name        string
		env         map[string]string
		wantFailed  bool
		wantSkipped bool
	}{
		{name: "down skips", env: map[string]string{EnvDSN: down}, wantSkipped: true},
		{name: "down with CI fails", env: map[string]string{EnvDSN: down, "CI": "true"},
			wantFailed: true},
		{name: "down with require fails",
			env: map[string]string{EnvDSN: down, EnvRequire: "1"}, wantFailed: true},
		{name: "CI=false still skips",
			env: map[string]string{EnvDSN: down, "CI": "false"}, wantSkipped: true},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := runFake(t, func(tb testing.TB) {
				dsn(tb, func(k string) string { return tt.env[k] })
			})

			if f.failed != tt.wantFailed || f.skipped != tt.wantSkipped {
				t.Fatalf("failed=%v skipped=%v, want %v %v (%s)",
					f.failed, f.skipped, tt.wantFailed, tt.wantSkipped, f.msg)
			}
			if !strings.Contains(f.msg, EnvDSN) || strings.Contains(f.msg, "hunter2") {
				t.Errorf("message must name %s and hide the password: %s", EnvDSN, f.msg)
			}
		})
	}
}

func TestDSN_up(t *testing.T) {
	up := DSN(t)

	t.Run("env", func(t *testing.T) {
		got := dsn(t, func(k string) string { return map[string]string{EnvDSN: up}[k] })
		if got != up {
			t.Errorf("dsn() = %s, want %s", got, up)
		}
	})

	t.Run("default", func(t *testing.T) {
		if up != DefaultDSN {
			t.Skipf("%s points away from the default server", EnvDSN)
		}
		if got := dsn(t, func(string) string { return "" }); got != DefaultDSN {
			t.Errorf("dsn() = %s, want %s", got, DefaultDSN)
		}
	})
}

func TestNewDatabase(t *testing.T) {
	base := connect(t, DSN(t))
	var names []string

	t.Run("creates", func(t *testing.T) {
		for range 2 {
			conn := connect(t, NewDatabase(t))
			var name string
			if err := conn.QueryRow(t.Context(), "SELECT current_database()").
				Scan(&name); err != nil {
				t.Fatal(err)
			}
			if _, err := conn.Exec(t.Context(), "CREATE TABLE t (x int)"); err != nil {
				t.Fatal(err)
			}
			names = append(names, name)
		}

		if names[0] == names[1] {
			t.Errorf("two databases share the name %s", names[0])
		}
		for _, n := range names {
			if !strings.HasPrefix(n, "rlt_pgtest_testnewdatabase_creates_") || len(n) > 63 {
				t.Errorf("name %q lacks package and test or is too long", n)
			}
		}
	})

	if len(names) != 2 {
		t.Fatal("subtest created no databases")
	}
	var left int
	err := base.QueryRow(t.Context(),
		"SELECT count(*) FROM pg_database WHERE datname = ANY($1)", names).Scan(&left)
	if err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Errorf("%d of %v still exist after cleanup", left, names)
	}
}

func TestDatabaseName(t *testing.T) {
	tests := []struct {
		name, pkg, test, want string
	}{
		{"plain", "store", "TestStore_Insert", "rlt_store_teststore_insert_0123abcd"},
		{"subtests and symbols", "httpapi", "TestX/bad input #1",
			"rlt_httpapi_testx_bad_input_1_0123abcd"},
		{"long", "writer", "Test" + strings.Repeat("Long", 30),
			"rlt_writer_test" + strings.Repeat("long", 9) + "lon_0123abcd"},
		{"empty test", "pkg", "", "rlt_pkg_0123abcd"},
		{"cut before underscore", "p", strings.Repeat("a", 47) + "_b",
			"rlt_p_" + strings.Repeat("a", 47) + "_0123abcd"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := databaseName(tt.pkg, tt.test, "0123abcd")
			if got != tt.want {
				t.Errorf("databaseName() = %s, want %s", got, tt.want)
			}
			if len(got) > maxNameLen {
				t.Errorf("len = %d, over %d", len(got), maxNameLen)
			}
		})
	}
}

func TestWithDatabase(t *testing.T) {
	tests := []struct {
		name, dsn, want string
	}{
		{"url", "postgres://u@127.0.0.1:5432/postgres?sslmode=disable",
			"postgres://u@127.0.0.1:5432/rlt_x?sslmode=disable"},
		{"url without path", "postgresql://127.0.0.1", "postgresql://127.0.0.1/rlt_x"},
		{"keyword", "host=127.0.0.1 dbname=postgres",
			"host=127.0.0.1 dbname=postgres dbname=rlt_x"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := withDatabase(tt.dsn, "rlt_x")
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("withDatabase() = %s, want %s", got, tt.want)
			}

			cfg, err := pgx.ParseConfig(got)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Database != "rlt_x" {
				t.Errorf("pgx reads database %q, want rlt_x", cfg.Database)
			}
		})
	}
}

func TestRedactDSN(t *testing.T) {
	tests := []struct {
		name, dsn, want string
	}{
		{"url", "postgres://u:secret@h/db", "postgres://u:xxxxx@h/db"},
		{"url no password", "postgres://u@h/db", "postgres://u@h/db"},
		{"keyword", "host=h password=secret user=u", "host=h password=xxxxx user=u"},
		{"keyword quoted", "password='a b\\' c' host=h", "password=xxxxx host=h"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := redactDSN(tt.dsn); got != tt.want {
				t.Errorf("redactDSN() = %s, want %s", got, tt.want)
			}
		})
	}
}
