package oauth_test

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/oauth2"

	"github.com/routerlogger/routerlogger/internal/testkit"
	"github.com/routerlogger/routerlogger/sync/oauth"
)

func TestStore_SaveLoad(t *testing.T) {
	pool := testkit.MigratedDB(t)
	store := oauth.NewStore(pool, testKey(t, 1))
	ctx := t.Context()
	expiry := time.Now().Add(time.Hour).Truncate(time.Microsecond)
	tok := (&oauth2.Token{AccessToken: "FAKE-RMS-ACCESS-TOKEN-0001",
		RefreshToken: "FAKE-RMS-REFRESH-TOKEN-0001", TokenType: "Bearer", Expiry: expiry}).
		WithExtra(map[string]any{"scope": "devices:read"})

	for want := int64(1); want <= 2; want++ {
		gen, err := store.Save(ctx, "rms", tok)
		if err != nil || gen != want {
			t.Fatalf("Save: generation %d, %v; want %d", gen, err, want)
		}
	}

	rec, err := store.Load(ctx, "rms")
	if err != nil {
		t.Fatal(err)
	}
	if rec.Token.AccessToken != tok.AccessToken || rec.Token.RefreshToken != tok.RefreshToken ||
		!rec.Token.Expiry.Equal(expiry) || rec.Token.TokenType != "Bearer" ||
		rec.Scope != "devices:read" || rec.State != oauth.StateOK || rec.Generation != 2 {
		t.Errorf("Load = %+v %+v", rec, rec.Token)
	}

	if _, err := store.Load(ctx, "clickup"); !errors.Is(err, oauth.ErrNoToken) {
		t.Errorf("Load of a provider never saved: %v, want ErrNoToken", err)
	}
}

func TestStore_tokensAreNotPlaintextAtRest(t *testing.T) {
	pool := testkit.MigratedDB(t)
	store := oauth.NewStore(pool, testKey(t, 1))
	ctx := t.Context()
	tok := &oauth2.Token{AccessToken: "FAKE-RMS-ACCESS-TOKEN-0001",
		RefreshToken: "FAKE-RMS-REFRESH-TOKEN-0001", Expiry: time.Now().Add(time.Hour)}
	if _, err := store.Save(ctx, "rms", tok); err != nil {
		t.Fatal(err)
	}

	// No column of any row holds either token or a telling part of it.
	rows, _ := pool.Query(ctx, "SELECT t::text FROM oauth_tokens t")
	dumps, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	var access []byte
	if err := pool.QueryRow(ctx, "SELECT access_token FROM oauth_tokens").Scan(&access); err != nil {
		t.Fatal(err)
	}
	for _, d := range append(dumps, string(access)) {
		if strings.Contains(d, "FAKE-RMS") || strings.Contains(d, "46414b452d524d53") { // hex of FAKE-RMS
			t.Errorf("token in plaintext at rest: %s", d)
		}
	}
	if bytes.Contains(access, []byte("ACCESS-TOKEN")) {
		t.Errorf("access_token column holds the plaintext")
	}
}

func TestStore_keys(t *testing.T) {
	pool := testkit.MigratedDB(t)
	ctx := t.Context()
	oldKey, newKey := testKey(t, 1), testKey(t, 2)
	tok := &oauth2.Token{AccessToken: "FAKE-RMS-ACCESS-TOKEN-0001",
		RefreshToken: "FAKE-RMS-REFRESH-TOKEN-0001"}
	if _, err := oauth.NewStore(pool, oldKey).Save(ctx, "rms", tok); err != nil {
		t.Fatal(err)
	}

	t.Run("wrong key", func(t *testing.T) {
		_, err := oauth.NewStore(pool, newKey).Load(ctx, "rms")
		if !errors.Is(err, oauth.ErrUnknownKey) || !strings.Contains(err.Error(), oauth.SecretKeyEnv) ||
			!strings.Contains(err.Error(), oldKey.CurrentID()) {
			t.Fatalf("got %v, want ErrUnknownKey naming %s and key id %s", err, oauth.SecretKeyEnv,
				oldKey.CurrentID())
		}
	})

	t.Run("rotation", func(t *testing.T) {
		both, err := oauth.NewKeyring(bytes.Repeat([]byte{2}, 32), bytes.Repeat([]byte{1}, 32))
		if err != nil {
			t.Fatal(err)
		}
		rotated := oauth.NewStore(pool, both)
		rec, err := rotated.Load(ctx, "rms")
		if err != nil || rec.Token.AccessToken != tok.AccessToken {
			t.Fatalf("new,old keyring opens the old row: %v", err)
		}

		if _, err := rotated.Save(ctx, "rms", rec.Token); err != nil {
			t.Fatal(err)
		}
		var keyID string
		if err := pool.QueryRow(ctx, "SELECT key_id FROM oauth_tokens").Scan(&keyID); err != nil {
			t.Fatal(err)
		}
		if keyID != newKey.CurrentID() {
			t.Errorf("rewritten row has key id %s, want the new key's %s", keyID, newKey.CurrentID())
		}
		if _, err := oauth.NewStore(pool, newKey).Load(ctx, "rms"); err != nil {
			t.Errorf("the new key alone opens the rewritten row: %v", err)
		}
	})

	t.Run("tampered", func(t *testing.T) {
		// A sealed secret moved to another column no longer opens.
		_, err := pool.Exec(ctx, "UPDATE oauth_tokens SET access_token = refresh_token")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := oauth.NewStore(pool, newKey).Load(ctx, "rms"); !errors.Is(err, oauth.ErrDecrypt) {
			t.Errorf("got %v, want ErrDecrypt", err)
		}
	})
}

func TestStore_oauthStateView(t *testing.T) {
	pool := testkit.MigratedDB(t)
	ctx := t.Context()

	rows, _ := pool.Query(ctx, `SELECT column_name::text FROM information_schema.columns
		WHERE table_name = 'oauth_state' ORDER BY ordinal_position`)
	cols, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"provider", "state", "expires_at", "updated_at", "last_error"}
	if !slices.Equal(cols, want) {
		t.Errorf("oauth_state columns %v, want %v (no secrets)", cols, want)
	}

	var view, table bool
	err = pool.QueryRow(ctx, `SELECT has_table_privilege('routerlogger_reader', 'oauth_state', 'SELECT'),
		has_table_privilege('routerlogger_reader', 'oauth_tokens', 'SELECT')`).Scan(&view, &table)
	if err != nil {
		t.Fatal(err)
	}
	if !view || table {
		t.Errorf("routerlogger_reader may read oauth_state %v, oauth_tokens %v; want true, false",
			view, table)
	}
}
