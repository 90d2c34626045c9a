package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// cliOn returns a function that runs the CLI with DATABASE_URL=dsn as
// the only setting, and returns its stdout and stderr together with its
// exit code.
func cliOn(dsn string) func(args ...string) (string, int) {
	return func(args ...string) (string, int) {
		var stdout, stderr bytes.Buffer
		getenv := func(k string) string {
			if k == "DATABASE_URL" {
				return dsn
			}
			return ""
		}
		err := run(context.Background(), args, getenv, &stdout, &stderr)
		code := exitCode(err, &stderr)
		return stdout.String() + stderr.String(), code
	}
}

// TestRun_BadConfig checks that a bad value stops the program with one
// line naming the variable, the value and the allowed range.
func TestRun_BadConfig(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"not a number", []string{"serve"}, map[string]string{"ROUTERLOGGER_WRITER_BATCH": "abc"},
			`ROUTERLOGGER_WRITER_BATCH="abc": not a whole number (allowed 1 to 100000)`},
		{"negative duration", []string{"serve", "--shutdown-timeout=-5s"}, nil,
			`--shutdown-timeout="-5s"`},
		{"bad url", []string{"migrate"}, map[string]string{"DATABASE_URL": "://x"},
			`DATABASE_URL="://x"`},
		{"out of range", []string{"serve"}, map[string]string{"ROUTERLOGGER_WRITER_WORKERS": "0"},
			`ROUTERLOGGER_WRITER_WORKERS="0"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			getenv := func(k string) string { return tt.env[k] }
			err := run(context.Background(), tt.args, getenv, &stdout, &stderr)
			code := exitCode(err, &stderr)
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			if code != 2 || len(lines) != 1 || !strings.Contains(lines[0], tt.want) {
				t.Fatalf("exit %d, stderr %q; want exit 2 and one line containing %q", code, stderr.String(), tt.want)
			}
		})
	}
}

func TestRun_Help(t *testing.T) {
	for _, cmd := range []string{"serve", "migrate", "import", "simulate", "token", "demo", "version", "bench", "router"} {
		var stdout, stderr bytes.Buffer
		args := []string{cmd, "--help"}
		if cmd == "token" || cmd == "router" {
			args = []string{cmd, "list", "--help"}
		}
		err := run(context.Background(), args, func(string) string { return "" }, &stdout, &stderr)
		if exitCode(err, &stderr) != 0 || !strings.Contains(stderr.String(), "Usage: routerlogger") {
			t.Errorf("%s --help: %v, stderr %q", cmd, err, stderr.String())
		}
	}
}

// TestRun_BadMQTTConfig checks the MQTT settings the broker would only
// refuse later are refused at start, named as the user gave them.
func TestRun_BadMQTTConfig(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"ROUTERLOGGER_MQTT_URL": "tcp://127.0.0.1"}, `ROUTERLOGGER_MQTT_URL="tcp://127.0.0.1": no port`},
		{map[string]string{"ROUTERLOGGER_MQTT_URL": "tcp://127.0.0.1:1883", "ROUTERLOGGER_MQTT_TOPIC_PREFIX": "a/+/b"},
			`ROUTERLOGGER_MQTT_TOPIC_PREFIX="a/+/b": want a topic level path`},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), []string{"serve"}, func(k string) string { return tt.env[k] }, &stdout, &stderr)
		if code := exitCode(err, &stderr); code != 2 || !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr.String(), tt.want)
		}
	}
}
