package main

import (
	"bytes"
	"net/url"
	"strings"
	"testing"

	"github.com/routerlogger/routerlogger/internal/pgtest"
)

func TestOAuth_Command(t *testing.T) {
	env := map[string]string{
		"DATABASE_URL":                   pgtest.NewDatabase(t),
		"ROUTERLOGGER_RMS_CLIENT_ID":     "rl-test-client",
		"ROUTERLOGGER_RMS_REDIRECT_URL":  "http://127.0.0.1:8080/oauth/rms/callback",
		"ROUTERLOGGER_RMS_AUTH_URL":      "http://127.0.0.1:9",
		"ROUTERLOGGER_SECRET_KEY":        strings.Repeat("ab", 32),
		"ROUTERLOGGER_RMS_CLIENT_SECRET": "FAKE-secret",
	}
	oauthCmd := func(env map[string]string, args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		err := run(t.Context(), append([]string{"oauth"}, args...), func(k string) string { return env[k] },
			&out, &errOut)
		return exitCode(err, &errOut), out.String(), errOut.String()
	}

	t.Run("start", func(t *testing.T) {
		code, out, errOut := oauthCmd(env, "start", "rms")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		u, err := url.Parse(strings.TrimSpace(out))
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		if u.Host != "127.0.0.1:9" || u.Path != "/account/authorize" || q.Get("client_id") != "rl-test-client" ||
			q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("state") == "" ||
			q.Get("scope") != "devices:read company_device_statistics:read" {
			t.Fatalf("authorize URL %s", u)
		}
	})
	t.Run("status", func(t *testing.T) {
		code, out, errOut := oauthCmd(env, "status")
		if code != 0 || !strings.HasPrefix(out, "PROVIDER") {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
		}
	})
	t.Run("half configured", func(t *testing.T) {
		bad := map[string]string{}
		for k, v := range env {
			bad[k] = v
		}
		bad["ROUTERLOGGER_SECRET_KEY"] = "short"
		code, _, errOut := oauthCmd(bad, "start", "rms")
		if code != 2 || !strings.Contains(errOut, "ROUTERLOGGER_SECRET_KEY") || strings.Contains(errOut, "short") {
			t.Fatalf("bad key: exit %d, stderr %q (must name the variable, never the value)", code, errOut)
		}
		delete(bad, "ROUTERLOGGER_SECRET_KEY")
		bad["ROUTERLOGGER_SECRET_KEY"] = env["ROUTERLOGGER_SECRET_KEY"]
		delete(bad, "ROUTERLOGGER_RMS_REDIRECT_URL")
		code, _, errOut = oauthCmd(bad, "start", "rms")
		if code != 2 || !strings.Contains(errOut, "ROUTERLOGGER_RMS_REDIRECT_URL") {
			t.Fatalf("no redirect URL: exit %d, stderr %q", code, errOut)
		}
		bad["ROUTERLOGGER_RMS_REDIRECT_URL"] = "not a url/oauth/rms/callback"
		code, _, errOut = oauthCmd(bad, "start", "rms")
		if code != 2 || !strings.Contains(errOut, "not an absolute http(s) URL") {
			t.Fatalf("relative redirect URL: exit %d, stderr %q", code, errOut)
		}
		bad["ROUTERLOGGER_RMS_REDIRECT_URL"] = env["ROUTERLOGGER_RMS_REDIRECT_URL"]
		delete(bad, "ROUTERLOGGER_SECRET_KEY")
		code, _, errOut = oauthCmd(bad, "start", "rms")
		if code != 2 || !strings.Contains(errOut, "required when ROUTERLOGGER_RMS_CLIENT_ID is set") {
			t.Fatalf("no key: exit %d, stderr %q", code, errOut)
		}
	})
}
