package pgtest

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// ping connects to dsn once with a short deadline.
func ping(t *testing.T, dsn string) error {
	t.Helper()

	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}

	return conn.Close(ctx)
}

// show returns the value of a server setting.
func show(t *testing.T, dsn, setting string) string {
	t.Helper()

	var v string
	if err := connect(t, dsn).QueryRow(t.Context(), "SHOW "+setting).Scan(&v); err != nil {
		t.Fatalf("SHOW %s: %v", setting, err)
	}

	return v
}

func TestStartCluster(t *testing.T) {
	t.Parallel()
	var c *Cluster

	t.Run("lifecycle", func(t *testing.T) {
		c = StartCluster(t, ClusterOptions{Settings: map[string]string{
			"work_mem":         "7MB",
			"application_name": "it's pgtest",
		}})
		if !strings.Contains(c.DSN, "127.0.0.1:") || c.Port == 0 {
			t.Fatalf("DSN %s, port %d", c.DSN, c.Port)
		}

		checks := map[string]string{
			"work_mem": "7MB", "application_name": "it's pgtest",
			"listen_addresses": "127.0.0.1", "fsync": "off",
		}
		for setting, want := range checks {
			if got := show(t, c.DSN, setting); got != want {
				t.Errorf("SHOW %s = %q, want %q", setting, got, want)
			}
		}

		c.Stop(t)
		if err := ping(t, c.DSN); err == nil {
			t.Fatal("connect after Stop succeeded")
		}

		c.Start(t)
		if err := ping(t, c.DSN); err != nil {
			t.Fatalf("connect after Start: %v", err)
		}

		c.Restart(t)
		if err := ping(t, c.DSN); err != nil {
			t.Fatalf("connect after Restart: %v", err)
		}

		c.Crash(t)
		if err := ping(t, c.DSN); err == nil {
			t.Fatal("connect after Crash succeeded")
		}
		c.Start(t)
		if err := ping(t, c.DSN); err != nil {
			t.Fatalf("connect after crash recovery: %v", err)
		}
	})

	if c == nil {
		t.Fatal("lifecycle subtest started no cluster")
	}
	if err := ping(t, c.DSN); err == nil {
		t.Error("cluster still answers after cleanup")
	}
	if _, err := os.Stat(c.dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("cluster folder %s not removed: %v", c.dir, err)
	}
}

func TestStartCluster_parallel(t *testing.T) {
	t.Parallel()

	a := StartCluster(t, ClusterOptions{})
	b := StartCluster(t, ClusterOptions{})

	if a.Port == b.Port {
		t.Fatalf("both clusters on port %d", a.Port)
	}
	a.Stop(t)
	if err := ping(t, b.DSN); err != nil {
		t.Errorf("stopping one cluster broke the other: %v", err)
	}
}

func TestConfLines(t *testing.T) {
	got := confLines(map[string]string{"b": "x'y", "a": "1"})

	if !strings.HasSuffix(got, "a = '1'\nb = 'x''y'\n") {
		t.Errorf("settings not sorted, quoted and last:\n%s", got)
	}
}

func TestVersionOf(t *testing.T) {
	tests := []struct {
		path string
		want int
	}{
		{"/usr/lib/postgresql/15/bin/initdb", 15},
		{"/usr/lib/postgresql/9/bin/initdb", 9},
		{"/opt/pg/bin/initdb", 0},
	}

	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if got := versionOf(tt.path); got != tt.want {
				t.Errorf("versionOf() = %d, want %d", got, tt.want)
			}
		})
	}
}
