// Package pgtest gives tests real PostgreSQL databases, never mocks.
//
// [DSN] returns the shared test server (env ROUTERLOGGER_TEST_DATABASE,
// default [DefaultDSN]) and [NewDatabase] creates a private database on it
// for one test, dropped when the test ends, so test packages and tests can
// run in parallel. [StartCluster] runs a whole private PostgreSQL cluster for
// tests that stop, restart or crash the server.
//
// When the server is unavailable, tests are skipped with a clear message,
// except when env CI is true or ROUTERLOGGER_TEST_REQUIRE_DB=1: then they
// fail, so a broken CI setup is never mistaken for a green run.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

const (
	// EnvDSN names the environment variable holding the test server's DSN.
	EnvDSN = "ROUTERLOGGER_TEST_DATABASE"
	// EnvRequire names the environment variable that, set to 1, turns a
	// missing server into a test failure instead of a skip.
	EnvRequire = "ROUTERLOGGER_TEST_REQUIRE_DB"
	// DefaultDSN is the test server used when EnvDSN is unset.
	DefaultDSN = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
)

// connectTimeout bounds every connection attempt made by this package.
const connectTimeout = 10 * time.Second

// maxNameLen is PostgreSQL's identifier limit (NAMEDATALEN - 1).
const maxNameLen = 63

// DSN returns the DSN of the shared test server after checking that it
// answers. When it does not, DSN skips the test, or fails it when CI=true or
// ROUTERLOGGER_TEST_REQUIRE_DB=1.
func DSN(t testing.TB) string {
	t.Helper()

	return dsn(t, os.Getenv)
}

// dsn is DSN with the environment passed in, for tests.
func dsn(t testing.TB, getenv func(string) string) string {
	t.Helper()

	d := getenv(EnvDSN)
	if d == "" {
		d = DefaultDSN
	}

	ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, d)
	if err != nil {
		unavailable(t, getenv, "PostgreSQL at %s does not answer (%v); "+
			"start it with scripts/ensure-services.sh or point %s elsewhere",
			redactDSN(d), err, EnvDSN)
	}
	_ = conn.Close(ctx)

	return d
}

// unavailable skips the test, or fails it when the environment requires the
// database.
func unavailable(t testing.TB, getenv func(string) string, format string, args ...any) {
	t.Helper()

	msg := "pgtest: " + fmt.Sprintf(format, args...)
	if required(getenv) {
		t.Fatal(msg)
	}
	t.Skip(msg + " (skipped; set CI=true or " + EnvRequire + "=1 to fail instead)")
}

// required reports whether a missing database must fail the test.
func required(getenv func(string) string) bool {
	ci, _ := strconv.ParseBool(getenv("CI"))

	return ci || getenv(EnvRequire) == "1"
}

// NewDatabase creates an empty database on the shared test server and
// returns its DSN. The name holds the package and test names and a random
// suffix. The database is dropped, with its connections closed by force,
// when the test and its subtests end.
func NewDatabase(t testing.TB) string {
	t.Helper()

	base := DSN(t)
	name := databaseName(packageName(), t.Name(), randomSuffix(t))

	ident := pgx.Identifier{name}.Sanitize()
	if err := execOn(base, "CREATE DATABASE "+ident); err != nil {
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		if err := execOn(base, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})

	d, err := withDatabase(base, name)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}

	return d
}

// execOn runs one statement on a fresh connection to dsn. It uses its own
// deadline because t.Context is already done when cleanups run.
func execOn(dsn, sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)

	_, err = conn.Exec(ctx, sql)

	return err
}

// packageName returns the last element of the working directory, which
// `go test` sets to the package's folder.
func packageName() string {
	wd, err := os.Getwd()
	if err != nil {
		return "pkg"
	}

	return filepath.Base(wd)
}

// randomSuffix returns 8 random hex digits.
func randomSuffix(t testing.TB) string {
	t.Helper()

	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("pgtest: random database suffix: %v", err)
	}

	return hex.EncodeToString(b)
}

// nonIdent matches runs of characters not allowed in our database names.
var nonIdent = regexp.MustCompile(`[^a-z0-9]+`)

// databaseName builds "rlt_<pkg>_<test>_<suffix>" from sanitized parts,
// shortening the middle so the name fits PostgreSQL's 63-byte limit.
func databaseName(pkg, test, suffix string) string {
	clean := func(s string) string {
		return strings.Trim(nonIdent.ReplaceAllString(strings.ToLower(s), "_"), "_")
	}

	name := "rlt_" + clean(pkg) + "_" + clean(test)
	name = strings.TrimRight(name, "_")
	if limit := maxNameLen - len(suffix) - 1; len(name) > limit {
		name = strings.TrimRight(name[:limit], "_")
	}

	return name + "_" + suffix
}

// withDatabase returns dsn pointing at database name. It handles both the
// URL and the keyword=value forms.
func withDatabase(dsn, name string) (string, error) {
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		// In keyword=value form a later keyword overrides an earlier one.
		return dsn + " dbname=" + name, nil
	}

	u, err := url.Parse(dsn)
	if err != nil {
		return "", fmt.Errorf("parse DSN %s: %w", redactDSN(dsn), err)
	}
	u.Path = "/" + name
	u.RawPath = ""

	return u.String(), nil
}

// passwordKeyword matches a password in keyword=value DSNs.
var passwordKeyword = regexp.MustCompile(`password=('(\\.|[^'])*'|\S*)`)

// redactDSN hides the password of a DSN for messages.
func redactDSN(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" {
		return u.Redacted()
	}

	return passwordKeyword.ReplaceAllString(dsn, "password=xxxxx")
}
