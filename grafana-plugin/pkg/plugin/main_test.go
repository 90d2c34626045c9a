package plugin_test

import (
	"os"
	"testing"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"
)

// TestMain keeps the SDK's request logging to warnings, so that test
// output shows failures, not every gRPC call.
func TestMain(m *testing.M) {
	quiet := log.NewWithLevel(log.Warn)
	log.DefaultLogger, backend.Logger = quiet, quiet
	os.Exit(m.Run())
}
