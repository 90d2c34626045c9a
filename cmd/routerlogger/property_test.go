package main

import (
	"strings"
	"testing"

	"github.com/routerlogger/routerlogger/internal/testkit"
)

// migratedCLI returns a function that runs the CLI against a fresh
// migrated database, and the database's DSN.
func migratedCLI(t *testing.T) (func(args ...string) (string, int), string) {
	t.Helper()
	dsn, pool := testkit.MigratedDSN(t)
	const seed = `INSERT INTO routers (serial, name, imei) VALUES
		('1100112233', 'Reception', '356789012345678'),
		('SIM-1', 'Reception', '356789012345678'),
		('OTHER-1', 'Reception', NULL)`
	if _, err := pool.Exec(t.Context(), seed); err != nil {
		t.Fatal(err)
	}

	return cliOn(dsn), dsn
}

func TestProperty_Commands(t *testing.T) {
	cli, _ := migratedCLI(t)

	steps := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"property", "assign", "1100112233", "Hotel Alpha", "--at", "2026-11-01T00:00:00Z"}, 0,
			"router 1100112233 is at Hotel Alpha since 2026-11-01T00:00:00Z"},
		{[]string{"property", "assign", "1100112233", "Camping Beta", "--at", "2026-11-05 12:00:00"}, 0,
			"left Hotel Alpha at 2026-11-05T12:00:00Z"},
		{[]string{"property", "assign", "1100112233", "Camping Beta"}, 0, "already at Camping Beta"},
		{[]string{"property", "assign", "1100112233", "Hotel Alpha", "--at", "2026-11-02T00:00:00Z"}, 1,
			"does not start after the current one"},
		{[]string{"property", "assign", "nope", "Hotel Alpha"}, 1, "unknown router"},
		{[]string{"property", "assign", "1100112233"}, 2, "Usage:"},
		{[]string{"property", "list"}, 0, "Camping Beta"},
		{[]string{"property", "unassign", "1100112233", "--at", "2026-11-09T00:00:00Z"}, 0,
			"left Camping Beta at 2026-11-09T00:00:00Z"},
		{[]string{"property", "unassign", "1100112233"}, 0, "at no property"},
		{[]string{"property", "history", "1100112233"}, 0, "2026-11-05T12:00:00Z"},
	}
	for _, s := range steps {
		out, code := cli(s.args...)
		if code != s.code || !strings.Contains(out, s.want) {
			t.Errorf("%v: exit %d, %q; want exit %d and %q", s.args, code, out, s.code, s.want)
		}
	}
}

func TestRouter_MergeCommands(t *testing.T) {
	cli, _ := migratedCLI(t)

	steps := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"router", "duplicates"}, 0, "imei"},
		{[]string{"router", "merge", "1100112233", "OTHER-1"}, 1, "share no IMEI, serial or LAN MAC"},
		{[]string{"router", "merge", "1100112233", "SIM-1", "--dry-run"}, 0, "dry run, nothing changed"},
		{[]string{"router", "list"}, 0, "SIM-1"},
		{[]string{"router", "merge", "1100112233", "SIM-1"}, 0, "merged SIM-1 into 1100112233"},
		{[]string{"router", "merge", "1100112233"}, 2, "Usage:"},
	}
	for _, s := range steps {
		out, code := cli(s.args...)
		if code != s.code || !strings.Contains(out, s.want) {
			t.Errorf("%v: exit %d, %q; want exit %d and %q", s.args, code, out, s.code, s.want)
		}
	}
	if out, _ := cli("router", "list"); strings.Contains(out, "SIM-1") {
		t.Errorf("merged router still listed: %q", out)
	}
}
