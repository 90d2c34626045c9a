package pgtest

import (
	"os"
	"path/filepath"
	"testing"
)

// StartTimescale starts a private cluster with the TimescaleDB library
// preloaded. TimescaleDB is an optional install (Debian does not package
// it), so a machine without it skips the test with a message saying so,
// even in CI.
func StartTimescale(t testing.TB) *Cluster {
	t.Helper()

	binDir, err := findBinDir()
	if err != nil {
		t.Skipf("TimescaleDB path not tested: no PostgreSQL server binaries (%v)", err)
	}
	lib := filepath.Join(filepath.Dir(binDir), "lib", "timescaledb.so")
	if _, err := os.Stat(lib); err != nil {
		t.Skipf("TimescaleDB path not tested: the extension is not installed on this machine (%s missing)", lib)
	}
	return StartCluster(t, ClusterOptions{Settings: map[string]string{
		"shared_preload_libraries":    "timescaledb",
		"timescaledb.telemetry_level": "off",
	}})
}
