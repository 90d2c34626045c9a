package main

import (
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

type composeFile struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Build       any               `yaml:"build"`
		Command     []string          `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
		Ports       []string          `yaml:"ports"`
		Volumes     []string          `yaml:"volumes"`
	} `yaml:"services"`
}

// TestCompose checks docker-compose.yml against the server's settings,
// since no Docker engine runs here: every variable it sets is one serve
// knows, the database URL points at the TimescaleDB service and database,
// and the published port is the one serve listens on.
func TestCompose(t *testing.T) {
	raw, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	if err := yaml.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}

	tsdb, ok := c.Services["timescaledb"]
	if !ok || !strings.HasPrefix(tsdb.Image, "timescale/timescaledb:") || !strings.HasSuffix(tsdb.Image, "-pg15") {
		t.Errorf("timescaledb service image %q, want timescale/timescaledb:<version>-pg15", tsdb.Image)
	}
	if mq := c.Services["mosquitto"]; !strings.HasPrefix(mq.Image, "eclipse-mosquitto:2") {
		t.Errorf("mosquitto image %q, want eclipse-mosquitto:2", mq.Image)
	}
	for _, v := range c.Services["mosquitto"].Volumes {
		if src := strings.Split(v, ":")[0]; strings.HasPrefix(src, "./") {
			if _, err := os.Stat("../../" + src); err != nil {
				t.Errorf("mosquitto mounts %s, which is missing: %v", src, err)
			}
		}
	}

	rl, ok := c.Services["routerlogger"]
	if !ok || rl.Build == nil || !slices.Equal(rl.Command, []string{"serve"}) {
		t.Fatalf("routerlogger service must build the image and run serve: %+v", rl)
	}

	e := &env{getenv: func(string) string { return "" }}
	f := newFlags(e, "serve", "serve")
	registerServe(f)
	known := f.cfg.Envs()
	for name := range rl.Environment {
		if !slices.Contains(known, name) {
			t.Errorf("compose sets %s, which serve does not read (known: %v)", name, known)
		}
	}

	// Resolve the compose environment through the real config parser.
	getenv := func(k string) string { return expand(rl.Environment[k]) }
	f = newFlags(&env{getenv: getenv}, "serve", "serve")
	f.fs.SetOutput(flagDiscard{})
	cfg := registerServe(f)
	if err := f.parse(nil); err != nil {
		t.Fatalf("compose environment does not parse: %v", err)
	}

	u, err := url.Parse(*cfg.databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	if u.Hostname() != "timescaledb" || strings.TrimPrefix(u.Path, "/") != tsdb.Environment["POSTGRES_DB"] {
		t.Errorf("database URL %s does not name service timescaledb and database %q",
			u.Redacted(), tsdb.Environment["POSTGRES_DB"])
	}
	_, port, _ := net.SplitHostPort(*cfg.httpAddr)
	if !slices.Contains(rl.Ports, port+":"+port) {
		t.Errorf("serve listens on %s but compose publishes %v", *cfg.httpAddr, rl.Ports)
	}
}

// expand resolves ${VAR:-default} the way compose does with VAR unset.
func expand(s string) string {
	return os.Expand(s, func(v string) string {
		if _, def, ok := strings.Cut(v, ":-"); ok {
			return def
		}
		return ""
	})
}

type flagDiscard struct{}

func (flagDiscard) Write(p []byte) (int, error) { return len(p), nil }
