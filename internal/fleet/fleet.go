// Package fleet keeps what RouterLogger knows of the fleet besides
// telemetry: the properties (sites) routers are installed at and the
// history of which router served which property.
//
// An assignment is a period [from, to) of one router at one property, to
// open while it lasts. The database refuses overlapping periods of one
// router (an exclusion constraint of migration 0015), so the history stays
// consistent whichever process writes it. [Store.AssignProperty] closes
// the current period and opens the new one in one transaction.
//
// Domains call this package; it imports nothing of ingest/ or sync/.
package fleet

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Errors callers branch on.
var (
	// ErrUnknownRouter is returned for a serial that names no router (nor
	// a router merged into another).
	ErrUnknownRouter = errors.New("fleet: unknown router")
	// ErrOverlap is returned when an assignment would overlap another
	// period of the same router; the database refused it.
	ErrOverlap = errors.New("fleet: assignment overlaps another period of the router")
	// ErrNotAfterCurrent is returned when the new period would not start
	// after the start of the router's current one.
	ErrNotAfterCurrent = errors.New("fleet: assignment does not start after the current one")
)

// Store reads and writes properties and assignments. It is safe for
// concurrent use; it keeps no state besides the pool.
type Store struct {
	pool *pgxpool.Pool
}

// NewStore returns a store over pool. It does no I/O.
func NewStore(pool *pgxpool.Pool) *Store {
	return &Store{pool: pool}
}

// Property is one row of properties.
type Property struct {
	ID        int64
	Name      string
	Address   string
	Notes     string
	ClickUpID string
	CreatedAt time.Time
	// Routers is the number of routers currently assigned (from List).
	Routers int
}

// Assignment is one period of a router at a property.
type Assignment struct {
	Serial   string
	Property string
	From     time.Time
	// To is nil while the period lasts.
	To     *time.Time
	Source string
}

// Change is what [Store.AssignProperty] did.
type Change struct {
	// Changed is false when the router already was at the property.
	Changed bool
	// Closed is the period that ended at the new one's start, if any.
	Closed *Assignment
	// Current is the router's current period after the call.
	Current Assignment
}

// isOverlap reports whether err is the exclusion constraint's refusal.
func isOverlap(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23P01"
}

// inTx runs f in a transaction and commits when it returns nil.
func (s *Store) inTx(ctx context.Context, f func(pgx.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("fleet: begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))

	if err := f(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("fleet: commit: %w", err)
	}
	return nil
}
