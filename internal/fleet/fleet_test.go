package fleet_test

import (
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/routerlogger/routerlogger/internal/fleet"
	"github.com/routerlogger/routerlogger/internal/testkit"
)

var t0 = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// newRouters creates routers with the given serials.
func newRouters(tb testing.TB, pool *pgxpool.Pool, serials ...string) {
	tb.Helper()
	for _, s := range serials {
		if _, err := pool.Exec(tb.Context(), "INSERT INTO routers (serial) VALUES ($1)", s); err != nil {
			tb.Fatal(err)
		}
	}
}

func TestStore_AssignProperty(t *testing.T) {
	pool := testkit.MigratedDB(t)
	newRouters(t, pool, "R1")
	s := fleet.NewStore(pool)
	ctx := t.Context()

	ch, err := s.AssignProperty(ctx, "R1", "Hotel Alpha", t0, "cli")
	if err != nil || !ch.Changed || ch.Closed != nil {
		t.Fatalf("first assignment = %+v, %v; want changed, nothing closed", ch, err)
	}

	// The same property again, as a sync job would on every run.
	ch, err = s.AssignProperty(ctx, "R1", "Hotel Alpha", t0.Add(time.Hour), "clickup")
	if err != nil || ch.Changed || !ch.Current.From.Equal(t0) {
		t.Fatalf("repeated assignment = %+v, %v; want unchanged since %s", ch, err, t0)
	}

	at := t0.Add(48 * time.Hour)
	ch, err = s.AssignProperty(ctx, "R1", "Camping Beta", at, "clickup")
	if err != nil || !ch.Changed || ch.Closed == nil || !ch.Closed.To.Equal(at) {
		t.Fatalf("move = %+v, %v; want the Alpha period closed at %s", ch, err, at)
	}

	hist, err := s.History(ctx, "R1")
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 || hist[0].Property != "Hotel Alpha" || !hist[0].To.Equal(at) ||
		hist[1].Property != "Camping Beta" || hist[1].To != nil {
		t.Fatalf("history = %+v", hist)
	}

	for _, tc := range []struct {
		when time.Time
		want string
	}{
		{t0.Add(-time.Hour), ""}, {t0, "Hotel Alpha"},
		{at.Add(-time.Microsecond), "Hotel Alpha"}, {at, "Camping Beta"},
	} {
		got, err := s.PropertyAt(ctx, "R1", tc.when)
		if err != nil || got != tc.want {
			t.Errorf("PropertyAt(%s) = %q, %v; want %q", tc.when, got, err, tc.want)
		}
	}
}

func TestStore_AssignPropertyRefusals(t *testing.T) {
	pool := testkit.MigratedDB(t)
	newRouters(t, pool, "R1")
	s := fleet.NewStore(pool)
	ctx := t.Context()

	if _, err := s.AssignProperty(ctx, "nope", "P", t0, "cli"); !errors.Is(err, fleet.ErrUnknownRouter) {
		t.Errorf("unknown router: err = %v, want ErrUnknownRouter", err)
	}
	if _, err := s.AssignProperty(ctx, "R1", "P1", t0, "cli"); err != nil {
		t.Fatal(err)
	}
	_, err := s.AssignProperty(ctx, "R1", "P2", t0.Add(-time.Hour), "cli")
	if !errors.Is(err, fleet.ErrNotAfterCurrent) {
		t.Errorf("backdated: err = %v, want ErrNotAfterCurrent", err)
	}
}

// TestOverlapRefusedByDatabase writes overlapping periods around the Go
// code: the exclusion constraint must refuse them.
func TestOverlapRefusedByDatabase(t *testing.T) {
	pool := testkit.MigratedDB(t)
	newRouters(t, pool, "R1", "R2")
	ctx := t.Context()
	if _, err := pool.Exec(ctx, "INSERT INTO properties (name) VALUES ('A'), ('B')"); err != nil {
		t.Fatal(err)
	}
	ins := `INSERT INTO router_properties (router_id, property_id, valid_from, valid_to, source)
		SELECT r.id, p.id, $3, $4, 'test' FROM routers r, properties p
		WHERE r.serial = $1 AND p.name = $2`

	if _, err := pool.Exec(ctx, ins, "R1", "A", t0, t0.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		serial   string
		from, to any
		refused  bool
	}{
		{"inside", "R1", t0.Add(time.Hour), t0.Add(2 * time.Hour), true},
		{"open ended over it", "R1", t0.Add(-time.Hour), nil, true},
		{"touching end", "R1", t0.Add(24 * time.Hour), nil, false},
		{"second open period", "R1", t0.Add(48 * time.Hour), nil, true},
		{"other router", "R2", t0, nil, false},
	}
	for _, tt := range tests {
		_, err := pool.Exec(ctx, ins, tt.serial, "B", tt.from, tt.to)
		var pgErr *pgconn.PgError
		refused := errors.As(err, &pgErr) && pgErr.Code == "23P01"
		if refused != tt.refused || err != nil && !refused {
			t.Errorf("%s: err = %v, want refused %v", tt.name, err, tt.refused)
		}
	}
}

func TestViews(t *testing.T) {
	pool := testkit.MigratedDB(t)
	newRouters(t, pool, "R1")
	s := fleet.NewStore(pool)
	ctx := t.Context()
	if _, err := s.AssignProperty(ctx, "R1", "Old", t0, "cli"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AssignProperty(ctx, "R1", "New", t0.Add(time.Hour), "cli"); err != nil {
		t.Fatal(err)
	}

	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "SET LOCAL ROLE routerlogger_reader"); err != nil {
		t.Fatal(err)
	}
	var cur string
	var since time.Time
	q := "SELECT property, since FROM router_properties_current WHERE serial = 'R1'"
	if err := tx.QueryRow(ctx, q).Scan(&cur, &since); err != nil {
		t.Fatal(err)
	}
	if cur != "New" || !since.Equal(t0.Add(time.Hour)) {
		t.Errorf("current = %s since %s, want New since %s", cur, since, t0.Add(time.Hour))
	}
	var n int
	if err := tx.QueryRow(ctx, "SELECT count(*) FROM router_property_history").Scan(&n); err != nil || n != 2 {
		t.Errorf("history rows = %d, %v; want 2", n, err)
	}
}

func TestStore_Unassign(t *testing.T) {
	pool := testkit.MigratedDB(t)
	newRouters(t, pool, "R1")
	s := fleet.NewStore(pool)
	ctx := t.Context()

	if ch, err := s.Unassign(ctx, "R1", t0); err != nil || ch.Changed {
		t.Fatalf("unassign without a period = %+v, %v; want unchanged", ch, err)
	}
	if _, err := s.AssignProperty(ctx, "R1", "A", t0, "clickup"); err != nil {
		t.Fatal(err)
	}
	ch, err := s.Unassign(ctx, "R1", t0.Add(time.Hour))
	if err != nil || !ch.Changed || ch.Closed.Property != "A" {
		t.Fatalf("unassign = %+v, %v; want A closed", ch, err)
	}
	if got, err := s.PropertyAt(ctx, "R1", t0.Add(2*time.Hour)); err != nil || got != "" {
		t.Errorf("property after unassign = %q, %v; want none", got, err)
	}
}

func TestStore_UpsertProperty(t *testing.T) {
	pool := testkit.MigratedDB(t)
	s := fleet.NewStore(pool)
	ctx := t.Context()

	id, err := s.UpsertProperty(ctx, fleet.Property{Name: "Hotel A", ClickUpID: "cu-1", Address: "Main St 1"})
	if err != nil {
		t.Fatal(err)
	}
	renamed, err := s.UpsertProperty(ctx, fleet.Property{Name: "Hotel Alpha", ClickUpID: "cu-1"})
	if err != nil || renamed != id {
		t.Fatalf("rename by ClickUp id = %d, %v; want id %d", renamed, err, id)
	}
	byName, err := s.UpsertProperty(ctx, fleet.Property{Name: "Hotel Alpha", Notes: "pool bar"})
	if err != nil || byName != id {
		t.Fatalf("upsert by name = %d, %v; want id %d", byName, err, id)
	}

	list, err := s.Properties(ctx)
	if err != nil || len(list) != 1 {
		t.Fatalf("properties = %+v, %v", list, err)
	}
	p := list[0]
	if p.Name != "Hotel Alpha" || p.Address != "Main St 1" || p.Notes != "pool bar" || p.ClickUpID != "cu-1" {
		t.Errorf("property = %+v", p)
	}
}

// TestStore_AssignDuringMerge assigns the serial a merge is deleting,
// while the merge is open: the assignment waits and lands on the router
// kept.
func TestStore_AssignDuringMerge(t *testing.T) {
	pool := testkit.MigratedDB(t)
	newRouters(t, pool, "KEEP", "DUP")
	ctx := t.Context()

	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	for _, q := range []string{
		"DELETE FROM router_status WHERE router_id = (SELECT id FROM routers WHERE serial = 'DUP')",
		`INSERT INTO router_merges (keep_router_id, keep_serial, dup_router_id, dup_serial, matched_by,
			matched_value, samples_moved, samples_dropped)
		SELECT k.id, k.serial, d.id, d.serial, 'imei', 'x', 0, 0 FROM routers k, routers d
		WHERE k.serial = 'KEEP' AND d.serial = 'DUP'`,
		"DELETE FROM routers WHERE serial = 'DUP'",
	} {
		if _, err := tx.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}

	done := make(chan error, 1)
	go func() {
		_, err := fleet.NewStore(pool).AssignProperty(ctx, "DUP", "Hotel A", t0, "clickup")
		done <- err
	}()
	time.Sleep(200 * time.Millisecond)
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("assign during merge: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("assign did not finish after the merge committed")
	}
	if got, err := fleet.NewStore(pool).PropertyAt(ctx, "KEEP", t0); err != nil || got != "Hotel A" {
		t.Errorf("keeper's property = %q, %v; want Hotel A", got, err)
	}
}
