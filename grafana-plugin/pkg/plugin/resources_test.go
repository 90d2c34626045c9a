package plugin_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/routerlogger/routerlogger/grafana-plugin/pkg/plugin"
)

// callResource calls a resource and returns its status and body.
func callResource(t testing.TB, ds backend.CallResourceHandler, method, path string) (int, []byte) {
	t.Helper()
	var got *backend.CallResourceResponse
	sender := backend.CallResourceResponseSenderFunc(func(r *backend.CallResourceResponse) error {
		got = r
		return nil
	})
	req := &backend.CallResourceRequest{Method: method, Path: path, URL: path}
	if err := ds.CallResource(context.Background(), req, sender); err != nil {
		t.Fatalf("CallResource %s %s: %v", method, path, err)
	}
	if got == nil {
		t.Fatalf("CallResource %s %s: no response", method, path)
	}
	return got.Status, got.Body
}

func TestDatasource_CallResource(t *testing.T) {
	t.Parallel()
	ds := newDatasource(t, fixtureDB(t), nil)

	t.Run("routers", func(t *testing.T) {
		status, body := callResource(t, ds, http.MethodGet, "routers")
		var routers []plugin.RouterRef
		if err := json.Unmarshal(body, &routers); err != nil || status != http.StatusOK {
			t.Fatalf("status %d body %s: %v", status, body, err)
		}
		want := []plugin.RouterRef{{Serial: "6000000001", Name: "RL-TEST-001"},
			{Serial: "6000000002", Name: "RL-TEST-002"}, {Serial: "6000000003", Name: "RL-TEST-003"}}
		if !slices.Equal(routers, want) {
			t.Errorf("routers %+v, want %+v", routers, want)
		}
	})

	t.Run("query-types", func(t *testing.T) {
		status, body := callResource(t, ds, http.MethodGet, "query-types")
		var types []plugin.QueryType
		if err := json.Unmarshal(body, &types); err != nil || status != http.StatusOK {
			t.Fatalf("status %d body %s: %v", status, body, err)
		}
		table := plugin.QueryTypes()
		if len(types) != len(table) {
			t.Fatalf("%d query types, want %d", len(types), len(table))
		}
		for i, qt := range types {
			if qt.Name != table[i].Name || qt.Kind == "" || qt.Description == "" ||
				len(qt.Options) != len(table[i].Options) {
				t.Errorf("entry %d: %+v, want %s with %d options", i, qt, table[i].Name, len(table[i].Options))
			}
			for _, o := range qt.Options {
				if o.Name == "" || o.Type == "" || o.Description == "" {
					t.Errorf("%s: option %+v is not fully described", qt.Name, o)
				}
			}
		}
	})

	t.Run("wrong method", func(t *testing.T) {
		if status, body := callResource(t, ds, http.MethodPost, "routers"); status != http.StatusMethodNotAllowed {
			t.Errorf("POST routers: %d %s, want 405", status, body)
		}
	})

	t.Run("unknown path", func(t *testing.T) {
		if status, _ := callResource(t, ds, http.MethodGet, "secrets"); status != http.StatusNotFound {
			t.Errorf("GET secrets: %d, want 404", status)
		}
	})
}
