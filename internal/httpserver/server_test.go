package httpserver_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/routerlogger/routerlogger/internal/httpserver"
)

func TestMetrics_Middleware(t *testing.T) {
	reg := prometheus.NewRegistry()
	var logs strings.Builder
	log := slog.New(slog.NewTextHandler(&logs, nil))

	r := chi.NewRouter()
	r.Use(httpserver.NewMetrics(reg).Middleware(log))
	r.Get("/ok", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusAccepted) })
	r.Get("/boom", func(http.ResponseWriter, *http.Request) { panic("kaboom") })
	srv := httptest.NewServer(r)
	defer srv.Close()

	for _, path := range []string{"/ok", "/ok", "/boom"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		want := map[string]int{"/ok": 202, "/boom": 500}[path]
		if resp.StatusCode != want {
			t.Errorf("%s: status %d, want %d", path, resp.StatusCode, want)
		}
	}

	const want = `
# HELP routerlogger_http_requests_total HTTP requests by route pattern, method and status code.
# TYPE routerlogger_http_requests_total counter
routerlogger_http_requests_total{code="202",method="GET",route="/ok"} 2
routerlogger_http_requests_total{code="500",method="GET",route="/boom"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "routerlogger_http_requests_total"); err != nil {
		t.Error(err)
	}
	if !strings.Contains(logs.String(), "handler panicked") || !strings.Contains(logs.String(), "kaboom") {
		t.Errorf("panic not logged: %s", logs.String())
	}
}
