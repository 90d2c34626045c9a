package plugin_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/experimental/datasourcetest"

	"github.com/routerlogger/routerlogger/grafana-plugin/pkg/plugin"
)

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// pluginContext is what Grafana sends with every call: the plugin and the
// datasource's settings.
func pluginContext(s backend.DataSourceInstanceSettings) backend.PluginContext {
	s.Updated = time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC)
	return backend.PluginContext{OrgID: 1, PluginID: plugin.ID, DataSourceInstanceSettings: &s}
}

// TestDatasource_GRPC serves the plugin over the SDK's own gRPC server,
// with instance management as datasource.Manage sets it up, and calls it
// through the SDK's gRPC client: the health check and a usage query.
func TestDatasource_GRPC(t *testing.T) {
	t.Parallel()
	dsn := fixtureDB(t)
	user, password := loginRole(t, dsn, true)
	pc := pluginContext(instanceSettings(t, dsn, user, password, nil))

	tp, err := datasourcetest.Manage(plugin.NewDatasource, datasourcetest.ManageOpts{Address: freeAddr(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tp.Shutdown() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	health, err := tp.Client.CheckHealth(ctx, &backend.CheckHealthRequest{PluginContext: pc})
	if err != nil {
		t.Fatalf("CheckHealth over gRPC: %v", err)
	}
	if health.Status != backend.HealthStatusOk || !strings.Contains(health.Message, "as "+user) {
		t.Errorf("health %s: %s", health.Status, health.Message)
	}

	q := dataQuery("A", "router_usage", `{"routers": ["6000000001"], "metric": "rx"}`, time.Hour)
	resp, err := tp.Client.QueryData(ctx, &backend.QueryDataRequest{PluginContext: pc, Queries: []backend.DataQuery{q}})
	if err != nil {
		t.Fatalf("QueryData over gRPC: %v", err)
	}
	r := resp.Responses["A"]
	if r.Error != nil {
		t.Fatal(r.Error)
	}
	if got, want := sumField(t, r.Frames, "rx_bytes")["6000000001"], expectedUsage(t)["6000000001"][1]; got != want {
		t.Errorf("rx over gRPC: %d, want %d", got, want)
	}
}
