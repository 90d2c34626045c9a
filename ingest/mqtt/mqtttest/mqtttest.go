// Package mqtttest gives tests real Mosquitto brokers, never fakes: the
// system broker on 127.0.0.1:1883 for tests that need only a broker
// ([SystemBroker], with unique topics and client ids from [Unique]), and a
// private broker started from deploy/mosquitto.conf ([Broker]) for tests
// that restart it or rely on its settings. It also has a QoS 1
// [Publisher] with a persistent session.
//
// When no broker is available the test is skipped, or failed when CI=true
// or ROUTERLOGGER_TEST_REQUIRE_DB=1 (which `make test` sets for every
// service).
package mqtttest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/routerlogger/routerlogger/ingest/mqtt/mosquitto"
)

// SystemAddr is the system broker's address.
const SystemAddr = "127.0.0.1:1883"

// SystemBroker returns the system broker's URL after checking that it
// answers.
func SystemBroker(t testing.TB) string {
	t.Helper()

	c, err := net.DialTimeout("tcp", SystemAddr, 3*time.Second)
	if err != nil {
		unavailable(t, "Mosquitto at %s does not answer (%v); start it with "+
			"scripts/ensure-services.sh", SystemAddr, err)
	}
	c.Close()
	return "tcp://" + SystemAddr
}

// RequireBinary returns the broker binary, skipping (or failing) the test
// when there is none.
func RequireBinary(t testing.TB) string {
	t.Helper()

	bin, err := mosquitto.FindBin("")
	if err != nil {
		unavailable(t, "%v; install mosquitto", err)
	}
	return bin
}

// Broker starts a private broker configured from deploy/mosquitto.conf on
// a free port and stops it, removing its folder, when the test ends.
func Broker(t testing.TB) *mosquitto.Broker {
	t.Helper()

	RequireBinary(t)
	b, err := mosquitto.New(mosquitto.Options{Conf: DeployConf(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("mqtttest: %v", err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	return b
}

// DeployConf returns the text of deploy/mosquitto.conf, found by walking up
// from the working folder to the module root.
func DeployConf(t testing.TB) string {
	t.Helper()

	root, err := moduleRoot()
	if err != nil {
		t.Fatalf("mqtttest: %v", err)
	}
	raw, err := os.ReadFile(filepath.Join(root, "deploy", "mosquitto.conf"))
	if err != nil {
		t.Fatalf("mqtttest: %v", err)
	}
	return string(raw)
}

// moduleRoot returns the nearest folder above the working folder holding
// go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working folder")
		}
		dir = parent
	}
}

// nonWord matches what Unique replaces in a test name.
var nonWord = regexp.MustCompile(`[^A-Za-z0-9]+`)

// Unique returns prefix, the test's name and a random suffix joined by
// dashes: a topic level or client id no other test or run uses.
func Unique(t testing.TB, prefix string) string {
	t.Helper()

	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	name := strings.Trim(nonWord.ReplaceAllString(t.Name(), "-"), "-")
	if len(name) > 40 {
		name = name[len(name)-40:]
	}
	return prefix + "-" + name + "-" + hex.EncodeToString(b)
}

// unavailable skips the test, or fails it when services are required.
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()

	msg := "mqtttest: " + fmt.Sprintf(format, args...)
	ci, _ := strconv.ParseBool(os.Getenv("CI"))
	if ci || os.Getenv("ROUTERLOGGER_TEST_REQUIRE_DB") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg + " (skipped; set CI=true or ROUTERLOGGER_TEST_REQUIRE_DB=1 to fail instead)")
}
