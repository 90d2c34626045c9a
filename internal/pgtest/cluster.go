package pgtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// EnvBinDir names the environment variable that overrides the folder holding
// initdb and pg_ctl.
const EnvBinDir = "ROUTERLOGGER_TEST_PG_BINDIR"

// serverOS is the OS user that runs the server when the tests run as root,
// since initdb and postgres refuse to run as root.
const serverOS = "postgres"

// pgCtlTimeout bounds each pg_ctl start or stop, in seconds.
const pgCtlTimeout = 60

// ClusterOptions configures [StartCluster].
type ClusterOptions struct {
	// Settings are extra postgresql.conf settings, such as
	// {"shared_preload_libraries": "timescaledb"}. Each is written as
	// key = 'value' with the value quoted for you, after the defaults, so it
	// may override them.
	Settings map[string]string
}

// Cluster is a private PostgreSQL server for one test, listening only on
// 127.0.0.1 with trust authentication for user postgres and fsync off. Its
// methods must not be called concurrently.
type Cluster struct {
	// DSN connects to the cluster's postgres database as user postgres.
	DSN string
	// Port is the TCP port on 127.0.0.1; it stays the same across restarts.
	Port int

	binDir string
	dir    string   // private folder holding data/ and server.log
	runAs  []string // command prefix running a binary as serverOS, if root
}

// StartCluster creates a cluster with initdb in a private temporary folder,
// starts it on a free port and returns it. The cluster is stopped and its
// folder removed when the test ends. Without PostgreSQL server binaries the
// test is skipped, or failed when CI=true or ROUTERLOGGER_TEST_REQUIRE_DB=1.
func StartCluster(t testing.TB, opts ClusterOptions) *Cluster {
	t.Helper()

	binDir, err := findBinDir()
	if err != nil {
		unavailable(t, os.Getenv, "no PostgreSQL server binaries (%v); install postgresql "+
			"or set %s", err, EnvBinDir)
	}
	c := &Cluster{binDir: binDir}

	c.makeDir(t)
	c.initdb(t, opts.Settings)
	t.Cleanup(func() { c.stopAtCleanup(t) })
	c.startOnFreePort(t)

	return c
}

// Start starts the stopped cluster on its port and waits until it accepts
// connections.
func (c *Cluster) Start(t testing.TB) {
	t.Helper()

	if err := c.start(); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
}

// Stop shuts the cluster down cleanly (pg_ctl fast mode: open sessions are
// ended) and waits until it is gone.
func (c *Cluster) Stop(t testing.TB) {
	t.Helper()

	if err := c.stop("fast"); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
}

// Crash stops the cluster as a crash would (pg_ctl immediate mode): no
// shutdown checkpoint, so the next [Cluster.Start] runs crash recovery.
func (c *Cluster) Crash(t testing.TB) {
	t.Helper()

	if err := c.stop("immediate"); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
}

// Restart stops the cluster cleanly and starts it again on the same port.
func (c *Cluster) Restart(t testing.TB) {
	t.Helper()

	c.Stop(t)
	c.Start(t)
}

// makeDir creates the cluster's private folder, owned by the server's OS
// user when running as root, and removes it at cleanup. It does not use
// t.TempDir, whose parents may be closed to that user.
func (c *Cluster) makeDir(t testing.TB) {
	t.Helper()

	dir, err := os.MkdirTemp("", "routerlogger-pgtest-")
	if err != nil {
		t.Fatalf("pgtest: create cluster folder: %v", err)
	}
	c.dir = dir
	t.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("pgtest: remove cluster folder: %v", err)
		}
	})

	if os.Geteuid() != 0 {
		return
	}
	if err := c.chownToServer(); err != nil {
		unavailable(t, os.Getenv, "run the server as OS user %s: %v", serverOS, err)
	}
}

// chownToServer hands the folder to serverOS and sets runAs.
func (c *Cluster) chownToServer() error {
	u, err := user.Lookup(serverOS)
	if err != nil {
		return err
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)

	runuser, err := exec.LookPath("runuser")
	if err != nil {
		return err
	}
	c.runAs = []string{runuser, "-u", serverOS, "--"}

	return os.Chown(c.dir, uid, gid)
}

// initdb creates the data folder and appends the settings to its
// postgresql.conf.
func (c *Cluster) initdb(t testing.TB, settings map[string]string) {
	t.Helper()

	out, err := c.run("initdb", "-D", c.dataDir(), "-U", "postgres", "-A", "trust",
		"-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions")
	if err != nil {
		t.Fatalf("pgtest: initdb: %v\n%s", err, out)
	}

	conf := filepath.Join(c.dataDir(), "postgresql.conf")
	f, err := os.OpenFile(conf, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatalf("pgtest: open postgresql.conf: %v", err)
	}
	defer f.Close()
	if _, err := f.WriteString(confLines(settings)); err != nil {
		t.Fatalf("pgtest: write postgresql.conf: %v", err)
	}
}

// confLines renders the test defaults followed by the caller's settings.
func confLines(settings map[string]string) string {
	var b strings.Builder
	b.WriteString("\n# added by routerlogger pgtest\n" +
		"listen_addresses = '127.0.0.1'\n" +
		"unix_socket_directories = ''\n" +
		"fsync = off\n" +
		"synchronous_commit = off\n" +
		"full_page_writes = off\n" +
		"shared_buffers = '32MB'\n")

	keys := make([]string, 0, len(settings))
	for k := range settings {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s = '%s'\n", k, strings.ReplaceAll(settings[k], "'", "''"))
	}

	return b.String()
}

// startOnFreePort picks a free port and starts the cluster, trying another
// port if one is taken between the pick and the start.
func (c *Cluster) startOnFreePort(t testing.TB) {
	t.Helper()

	var err error
	for range 3 {
		if c.Port, err = freePort(); err != nil {
			break
		}
		c.DSN = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.Port)
		if err = c.start(); err == nil {
			return
		}
		if !strings.Contains(err.Error(), "could not bind") &&
			!strings.Contains(err.Error(), "already in use") {
			break
		}
	}

	t.Fatalf("pgtest: %v", err)
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()

	return l.Addr().(*net.TCPAddr).Port, nil
}

// start runs pg_ctl start and waits for the server to accept connections.
func (c *Cluster) start() error {
	out, err := c.run("pg_ctl", "-D", c.dataDir(), "-l", c.logFile(), "-w",
		"-t", strconv.Itoa(pgCtlTimeout), "-o", "-p "+strconv.Itoa(c.Port), "start")
	if err != nil {
		return fmt.Errorf("start cluster on port %d: %w\n%s\nserver log:\n%s",
			c.Port, err, out, c.logTail())
	}
	return nil
}

// stop runs pg_ctl stop in the given shutdown mode and waits for the end.
func (c *Cluster) stop(mode string) error {
	out, err := c.run("pg_ctl", "-D", c.dataDir(), "-m", mode, "-w",
		"-t", strconv.Itoa(pgCtlTimeout), "stop")
	if err != nil {
		return fmt.Errorf("stop cluster on port %d (%s): %w\n%s", c.Port, mode, err, out)
	}
	return nil
}

// stopAtCleanup stops the cluster if a test, or a failed start, left a
// server running, which postmaster.pid tells.
func (c *Cluster) stopAtCleanup(t testing.TB) {
	if _, err := os.Stat(filepath.Join(c.dataDir(), "postmaster.pid")); err != nil {
		return
	}

	if err := c.stop("immediate"); err != nil {
		t.Errorf("pgtest: cleanup: %v", err)
	}
}

// run runs one server binary, as serverOS when needed, and returns its
// combined output.
func (c *Cluster) run(bin string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*pgCtlTimeout*time.Second)
	defer cancel()

	argv := append(slices.Clone(c.runAs), filepath.Join(c.binDir, bin))
	argv = append(argv, args...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	// The caller's working folder may be closed to serverOS.
	cmd.Dir = c.dir

	return cmd.CombinedOutput()
}

// logTail returns the last lines of the server log, for error messages.
func (c *Cluster) logTail() string {
	b, err := os.ReadFile(c.logFile())
	if err != nil {
		return fmt.Sprintf("(no server log: %v)", err)
	}

	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")

	return strings.Join(lines[max(0, len(lines)-20):], "\n")
}

func (c *Cluster) dataDir() string { return filepath.Join(c.dir, "data") }

func (c *Cluster) logFile() string { return filepath.Join(c.dir, "server.log") }

// findBinDir returns the folder holding initdb and pg_ctl: EnvBinDir if set,
// else `pg_config --bindir` when that folder has initdb, else the newest
// /usr/lib/postgresql/<version>/bin.
func findBinDir() (string, error) {
	if d := os.Getenv(EnvBinDir); d != "" {
		return d, hasServerBinaries(d)
	}

	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		d := strings.TrimSpace(string(out))
		if hasServerBinaries(d) == nil {
			return d, nil
		}
	}

	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	slices.SortFunc(found, func(a, b string) int { return versionOf(b) - versionOf(a) })
	for _, initdb := range found {
		if d := filepath.Dir(initdb); hasServerBinaries(d) == nil {
			return d, nil
		}
	}

	return "", fmt.Errorf("no initdb and pg_ctl in pg_config --bindir or " +
		"/usr/lib/postgresql/*/bin")
}

// versionOf extracts the major version from /usr/lib/postgresql/<v>/bin/...,
// or 0.
func versionOf(path string) int {
	rel, _ := filepath.Rel("/usr/lib/postgresql", path)
	v, _ := strconv.Atoi(strings.SplitN(rel, string(filepath.Separator), 2)[0])

	return v
}

// hasServerBinaries checks that dir holds initdb and pg_ctl.
func hasServerBinaries(dir string) error {
	for _, bin := range []string{"initdb", "pg_ctl"} {
		if _, err := os.Stat(filepath.Join(dir, bin)); err != nil {
			return fmt.Errorf("%s: %w", bin, err)
		}
	}

	return nil
}
