package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/routerlogger/routerlogger/ingest/mqtt/mqtttest"
	"github.com/routerlogger/routerlogger/internal/pgtest"
)

// TestBench_JSON runs a small bench of every scenario and checks the JSON
// file's shape: the four scenarios by name with their figures, and the
// peak RSS.
func TestBench_JSON(t *testing.T) {
	dsn := pgtest.DSN(t)
	mqtttest.RequireBinary(t)
	out := filepath.Join(t.TempDir(), "bench.json")
	var stdout bytes.Buffer
	args := []string{"bench", "--admin-url", dsn, "--routers", "20", "--readings", "10",
		"--batch", "50", "--single-clients", "10", "--publishers", "2",
		"--mosquitto-conf", filepath.Join("..", "..", "deploy", "mosquitto.conf"), "--json", out}
	if err := run(context.Background(), args, func(string) string { return "" }, &stdout, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}

	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Scenarios []map[string]any `json:"scenarios"`
		PeakRSSMB *float64         `json:"peak_rss_mb"`
	}
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range rep.Scenarios {
		names = append(names, s["name"].(string))
		for _, k := range []string{"samples_per_s", "p50_ms", "p99_ms", "ratio_to_copy"} {
			if v, ok := s[k].(float64); !ok || v <= 0 {
				t.Errorf("%s: %s = %v", s["name"], k, s[k])
			}
		}
	}
	if got := strings.Join(names, ","); got != "copy,http_batch,http_single,mqtt" {
		t.Errorf("scenarios %s", got)
	}
	if rep.PeakRSSMB == nil || *rep.PeakRSSMB <= 0 {
		t.Errorf("peak_rss_mb %v", rep.PeakRSSMB)
	}
	if !strings.Contains(stdout.String(), "http_single") || !strings.Contains(stdout.String(), "peak RSS") {
		t.Errorf("table:\n%s", stdout.String())
	}
}

func TestBench_MissingBrokerConf(t *testing.T) {
	args := []string{"bench", "--scenarios", "mqtt", "--mosquitto-conf", "/nonexistent/mosquitto.conf"}
	err := run(context.Background(), args, func(string) string { return "" }, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "--mosquitto-conf") {
		t.Fatalf("error %v, want one naming --mosquitto-conf", err)
	}
}
