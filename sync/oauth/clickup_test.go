package oauth_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/routerlogger/routerlogger/internal/testkit"
	"github.com/routerlogger/routerlogger/sync/oauth"
)

func TestClickUpAuthError(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(testkit.FixturesDir(t), "clickup-errors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Status int             `json:"status"`
		Body   json.RawMessage `json:"body"`
	}
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}

	var codes []string
	for _, c := range cases {
		err := oauth.ClickUpAuthError(c.Status, c.Body)
		if c.Status != http.StatusUnauthorized {
			if err != nil {
				t.Errorf("status %d: got %v, want nil", c.Status, err)
			}
			continue
		}

		var ae *oauth.AuthError
		if !errors.As(err, &ae) || !oauth.IsUnauthorized(err) || !errors.Is(err, oauth.ErrUnauthorized) {
			t.Fatalf("status 401 %s: got %v, want an *AuthError that is ErrUnauthorized", c.Body, err)
		}
		if !strings.Contains(string(c.Body), ae.Code) || !strings.Contains(string(c.Body), ae.Message) {
			t.Errorf("AuthError %+v does not carry the body's ECODE and err: %s", ae, c.Body)
		}
		codes = append(codes, ae.Code)
	}
	if strings.Join(codes, ",") != "OAUTH_025,OAUTH_023,OAUTH_017" {
		t.Errorf("classified codes %v, want the three OAUTH_0xx of the fixture", codes)
	}

	if err := oauth.ClickUpAuthError(401, []byte("<html>no</html>")); !oauth.IsUnauthorized(err) {
		t.Errorf("401 with a body that is not JSON: %v, want unauthorized", err)
	}
}

func TestClickUpAuthorization(t *testing.T) {
	if got := oauth.ClickUpAuthorization("pk_1_FAKE"); got != "pk_1_FAKE" {
		t.Errorf("personal token: %q", got)
	}
	if got := oauth.ClickUpAuthorization("FAKE_CLICKUP_OAUTH_TOKEN_90000001"); got !=
		"Bearer FAKE_CLICKUP_OAUTH_TOKEN_90000001" {
		t.Errorf("OAuth token: %q", got)
	}
}

func TestStore_StaticSource(t *testing.T) {
	pool := testkit.MigratedDB(t)
	store := oauth.NewStore(pool, testKey(t, 3))
	ctx := t.Context()
	raw, err := os.ReadFile(filepath.Join(testkit.FixturesDir(t), "clickup-oauth-token.json"))
	if err != nil {
		t.Fatal(err)
	}
	var tok oauth2.Token
	if err := json.Unmarshal(raw, &tok); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Save(ctx, "clickup", &tok); err != nil {
		t.Fatal(err)
	}
	src := store.StaticSource(ctx, "clickup")

	got, err := src.Token()
	if err != nil || got.AccessToken != tok.AccessToken || !got.Valid() || got.RefreshToken != "" {
		t.Fatalf("StaticSource.Token = %+v, %v; want the stored token, valid, no refresh", got, err)
	}

	// A 401 makes the client mark it; the source then fails fast until a
	// new token is saved.
	if err := store.MarkNeedsReauth(ctx, "clickup", "OAUTH_025 Token invalid"); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Token(); !errors.Is(err, oauth.ErrNeedsReauth) ||
		!strings.Contains(err.Error(), "OAUTH_025") {
		t.Errorf("after MarkNeedsReauth: %v, want ErrNeedsReauth with the reason", err)
	}
	if _, err := store.Save(ctx, "clickup", &tok); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Token(); err != nil {
		t.Errorf("after a new Save: %v", err)
	}
}
