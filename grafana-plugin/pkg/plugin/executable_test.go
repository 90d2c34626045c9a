package plugin_test

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/grpcplugin"
	"github.com/grafana/grafana-plugin-sdk-go/genproto/pluginv2"
	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
)

// mainPackage is the plugin's executable.
const mainPackage = "github.com/routerlogger/routerlogger/grafana-plugin/pkg"

// grafanaHandshake is the handshake Grafana's plugin host uses (the SDK's
// grpcplugin.ProtocolVersion, MagicCookieKey and MagicCookieValue).
var grafanaHandshake = goplugin.HandshakeConfig{
	ProtocolVersion:  grpcplugin.ProtocolVersion,
	MagicCookieKey:   grpcplugin.MagicCookieKey,
	MagicCookieValue: grpcplugin.MagicCookieValue,
}

// TestExecutable_GoPlugin builds the plugin executable and runs it as
// Grafana does: through a hashicorp/go-plugin client with Grafana's
// handshake, over gRPC. It checks health, runs a query and shuts the
// plugin down, which must exit by itself.
func TestExecutable_GoPlugin(t *testing.T) {
	t.Parallel()
	if grpcplugin.ProtocolVersion != 2 || grpcplugin.MagicCookieKey != "grafana_plugin_type" ||
		grpcplugin.MagicCookieValue != "datasource" {
		t.Fatalf("the SDK's handshake changed: %+v", grafanaHandshake)
	}
	bin := buildPlugin(t)
	dsn := fixtureDB(t)
	user, password := loginRole(t, dsn, true)
	pc := backend.ToProto().PluginContext(pluginContext(instanceSettings(t, dsn, user, password, nil)))

	logs := &syncBuffer{}
	client := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig: grafanaHandshake,
		VersionedPlugins: map[int]goplugin.PluginSet{grpcplugin.ProtocolVersion: {
			"diagnostics": &grpcplugin.DiagnosticsGRPCPlugin{},
			"resource":    &grpcplugin.ResourceGRPCPlugin{},
			"data":        &grpcplugin.DataGRPCPlugin{},
		}},
		Cmd:              exec.Command(bin),
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		Logger:           hclog.New(&hclog.LoggerOptions{Output: logs, Level: hclog.Debug}),
		StartTimeout:     30 * time.Second,
	})
	t.Cleanup(client.Kill)

	rpc, err := client.Client()
	if err != nil {
		t.Fatalf("start plugin: %v\n%s", err, logs)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	diag := dispense[grpcplugin.DiagnosticsClient](t, rpc, "diagnostics")
	health, err := diag.CheckHealth(ctx, &pluginv2.CheckHealthRequest{PluginContext: pc})
	if err != nil {
		t.Fatalf("CheckHealth: %v", err)
	}
	if health.Status != pluginv2.CheckHealthResponse_OK || !strings.Contains(health.Message, "as "+user) {
		t.Errorf("health %s: %s", health.Status, health.Message)
	}

	dataClient := dispense[grpcplugin.DataClient](t, rpc, "data")
	q := dataQuery("A", "router_usage", `{"routers": ["6000000001"], "metric": "tx"}`, time.Hour)
	req := backend.ToProto().QueryDataRequest(&backend.QueryDataRequest{Queries: []backend.DataQuery{q}})
	req.PluginContext = pc
	protoResp, err := dataClient.QueryData(ctx, req)
	if err != nil {
		t.Fatalf("QueryData: %v", err)
	}
	resp, err := backend.FromProto().QueryDataResponse(protoResp)
	if err != nil {
		t.Fatal(err)
	}
	r := resp.Responses["A"]
	if r.Error != nil {
		t.Fatal(r.Error)
	}
	got, want := sumField(t, r.Frames, "tx_bytes")["6000000001"], expectedUsage(t)["6000000001"][0]
	if got != want {
		t.Errorf("tx through the executable: %d, want %d", got, want)
	}

	client.Kill()
	if !client.Exited() {
		t.Fatal("plugin process still running after Kill")
	}
	// The plugin's own "Plugin server exited" says it left Serve on the
	// shutdown request; go-plugin logs a plain exit at INFO and an exit
	// status or a kill at ERROR or WARN.
	out := logs.String()
	for _, want := range []string{"Plugin server exited", "[INFO]  plugin process exited"} {
		if !strings.Contains(out, want) {
			t.Errorf("plugin log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "failed to exit gracefully") || strings.Contains(out, "[ERROR]") {
		t.Errorf("plugin did not exit cleanly:\n%s", out)
	}
}

// buildPlugin builds the executable into a temporary folder, with the
// test binary's own flags so that the build cache serves everything but
// the main package (the Makefile's cross-compiled build is the release
// one).
func buildPlugin(t testing.TB) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command to build the plugin with: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "gpx_routerlogger_fleet")
	args := append(append([]string{"build"}, buildFlags...), "-o", bin, mainPackage)
	cmd := exec.Command(goBin, args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", mainPackage, err, out)
	}
	return bin
}

// dispense returns the named plugin client as T.
func dispense[T any](t testing.TB, rpc goplugin.ClientProtocol, name string) T {
	t.Helper()
	raw, err := rpc.Dispense(name)
	if err != nil {
		t.Fatalf("dispense %s: %v", name, err)
	}
	c, ok := raw.(T)
	if !ok {
		t.Fatalf("dispense %s: got %T", name, raw)
	}
	return c
}

// syncBuffer is a bytes.Buffer safe for the plugin client's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
