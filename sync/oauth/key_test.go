package oauth_test

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/routerlogger/routerlogger/sync/oauth"
)

func TestParseKeys(t *testing.T) {
	hexKey := strings.Repeat("ab", 32)
	b64Key := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", 32)))
	rawURLKey := base64.RawURLEncoding.EncodeToString([]byte(strings.Repeat("\xfb", 32)))

	tests := []struct {
		name    string
		value   string
		wantErr string // empty: no error
	}{
		{name: "hex", value: hexKey},
		{name: "base64", value: b64Key},
		{name: "raw url base64", value: " " + rawURLKey + " "},
		{name: "new then old", value: hexKey + "," + b64Key},
		{name: "unset", value: "  ", wantErr: "ROUTERLOGGER_SECRET_KEY is not set"},
		{name: "short hex", value: "abcd",
			wantErr: "ROUTERLOGGER_SECRET_KEY: key 1: hex decodes to 2 bytes, want 32"},
		{name: "16 bytes base64", value: base64.StdEncoding.EncodeToString(make([]byte, 16)),
			wantErr: "ROUTERLOGGER_SECRET_KEY: key 1: base64 decodes to 16 bytes, want 32"},
		{name: "neither", value: "not a key!", wantErr: "key 1: want 32 bytes as 64 hex digits"},
		{name: "bad second", value: hexKey + ",secret-word", wantErr: "ROUTERLOGGER_SECRET_KEY: key 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kr, err := oauth.ParseKeys(tt.value)
			if tt.wantErr == "" {
				if err != nil || kr == nil || kr.CurrentID() == "" {
					t.Fatalf("ParseKeys: %v", err)
				}
				return
			}

			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "secret-word") {
				t.Errorf("error %q shows the key's value", err)
			}
		})
	}
}

func TestParseKeys_firstKeySeals(t *testing.T) {
	a, b := strings.Repeat("11", 32), strings.Repeat("22", 32)
	ab, err := oauth.ParseKeys(a + "," + b)
	if err != nil {
		t.Fatal(err)
	}
	onlyA, err := oauth.ParseKeys(a)
	if err != nil {
		t.Fatal(err)
	}
	onlyB, err := oauth.ParseKeys(b)
	if err != nil {
		t.Fatal(err)
	}

	if ab.CurrentID() != onlyA.CurrentID() || ab.CurrentID() == onlyB.CurrentID() {
		t.Errorf("key ids: a,b %s a %s b %s; want a,b to seal with a", ab.CurrentID(),
			onlyA.CurrentID(), onlyB.CurrentID())
	}
}

// testKey returns a keyring of one key made of the byte b.
func testKey(tb testing.TB, b byte) *oauth.Keyring {
	tb.Helper()
	kr, err := oauth.NewKeyring(bytes.Repeat([]byte{b}, 32))
	if err != nil {
		tb.Fatal(err)
	}
	return kr
}
