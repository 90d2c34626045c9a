package tokens_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/routerlogger/routerlogger/ingest/tokens"
	"github.com/routerlogger/routerlogger/internal/clock"
	"github.com/routerlogger/routerlogger/internal/testkit"
)

func TestStore(t *testing.T) {
	ctx := context.Background()
	pool := testkit.MigratedDB(t)
	clk := clock.NewFake(time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC))
	s := tokens.NewStore(pool, clk, time.Minute)

	fleet, err := s.CreateFleet(ctx, "ops")
	if err != nil {
		t.Fatal(err)
	}
	router, err := s.CreateRouter(ctx, "6000000001", "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(fleet, tokens.Prefix) || fleet == router {
		t.Fatalf("tokens %q and %q", fleet, router)
	}

	g, err := s.Check(ctx, fleet)
	if err != nil || !g.Fleet() {
		t.Fatalf("fleet token: %+v %v", g, err)
	}
	g, err = s.Check(ctx, router)
	if err != nil || g.Router != "6000000001" {
		t.Fatalf("router token: %+v %v", g, err)
	}
	for _, bad := range []string{"", "rl_nope", "Bearer " + fleet, fleet + "x"} {
		if _, err := s.Check(ctx, bad); !errors.Is(err, tokens.ErrInvalid) {
			t.Errorf("token %q: %v, want ErrInvalid", bad, err)
		}
	}

	// No stored hash equals the token itself.
	var n int
	const inClear = "SELECT count(*) FROM api_tokens WHERE hash = convert_to($1, 'UTF8')"
	if err := pool.QueryRow(ctx, inClear, fleet).Scan(&n); err != nil || n != 0 {
		t.Fatalf("token stored in the clear: %d %v", n, err)
	}

	// Revocation takes effect once the cache entry expires.
	list, err := s.List(ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("list: %+v %v", list, err)
	}
	if err := s.Revoke(ctx, g.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Check(ctx, router); err != nil {
		t.Fatalf("cached check right after revoke: %v", err)
	}
	clk.Advance(2 * time.Minute)
	if _, err := s.Check(ctx, router); !errors.Is(err, tokens.ErrInvalid) {
		t.Fatalf("revoked token after the cache TTL: %v, want ErrInvalid", err)
	}
	if err := s.Revoke(ctx, 9999); err == nil {
		t.Error("revoking an unknown id succeeded")
	}
}

// TestStore_Scopes checks that admin and portal tokens pass only their own
// scope and never post telemetry, and that telemetry tokens pass no other.
func TestStore_Scopes(t *testing.T) {
	ctx := context.Background()
	pool := testkit.MigratedDB(t)
	s := tokens.NewStore(pool, nil, time.Minute)
	fleet, _ := s.CreateFleet(ctx, "ops")
	admin, err := s.CreateAdmin(ctx, "oncall")
	if err != nil {
		t.Fatal(err)
	}
	portal, err := s.CreatePortal(ctx, " lobby ")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreatePortal(ctx, " "); err == nil {
		t.Error("portal token without a portal name was issued")
	}

	tests := []struct {
		token, scope string
		want         error
	}{
		{admin, tokens.ScopeAdmin, nil},
		{portal, tokens.ScopePortal, nil},
		{fleet, tokens.ScopeAdmin, tokens.ErrScope},
		{portal, tokens.ScopeAdmin, tokens.ErrScope},
		{admin, tokens.ScopePortal, tokens.ErrScope},
		{"rl_nope", tokens.ScopeAdmin, tokens.ErrInvalid},
	}
	for _, tt := range tests {
		g, err := s.CheckScope(ctx, tt.token, tt.scope)
		if !errors.Is(err, tt.want) || (err == nil && g.Scope != tt.scope) {
			t.Errorf("CheckScope(%s token, %s) = %+v, %v; want %v", g.Scope, tt.scope, g, err, tt.want)
		}
	}
	if g, _ := s.CheckScope(ctx, portal, tokens.ScopePortal); g.Note != "lobby" {
		t.Errorf("portal grant note %q, want the portal name", g.Note)
	}
	for _, tok := range []string{admin, portal} {
		if g, err := s.Check(ctx, tok); !errors.Is(err, tokens.ErrInvalid) {
			t.Errorf("telemetry Check of a %s token = %+v, %v; want ErrInvalid", g.Scope, g, err)
		}
	}
}
