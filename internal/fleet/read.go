package fleet

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Properties lists every property by name, with the number of routers
// currently assigned to it.
func (s *Store) Properties(ctx context.Context) ([]Property, error) {
	const q = `SELECT p.id, p.name, coalesce(p.address, ''), coalesce(p.notes, ''),
			coalesce(p.clickup_id, ''), p.created_at,
			count(a.id) FILTER (WHERE a.valid_to IS NULL)::integer
		FROM properties p
		LEFT JOIN router_properties a ON a.property_id = p.id
		GROUP BY p.id
		ORDER BY p.name`
	rows, _ := s.pool.Query(ctx, q)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Property, error) {
		var p Property
		err := row.Scan(&p.ID, &p.Name, &p.Address, &p.Notes, &p.ClickUpID, &p.CreatedAt, &p.Routers)
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("fleet: list properties: %w", err)
	}
	return out, nil
}

// History returns the periods of the router with serial routerSerial (or
// of the router it was merged into), oldest first.
func (s *Store) History(ctx context.Context, routerSerial string) ([]Assignment, error) {
	var out []Assignment
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		id, _, err := findRouter(ctx, tx, routerSerial)
		if err != nil {
			return err
		}

		const q = `SELECT r.serial, p.name, a.valid_from, a.valid_to, a.source
			FROM router_properties a
			JOIN routers r ON r.id = a.router_id
			JOIN properties p ON p.id = a.property_id
			WHERE a.router_id = $1
			ORDER BY a.valid_from`
		rows, _ := tx.Query(ctx, q, id)
		out, err = pgx.CollectRows(rows, scanAssignment)
		if err != nil {
			return fmt.Errorf("fleet: read history: %w", err)
		}
		return nil
	})
	return out, err
}

// scanAssignment reads serial, property, valid_from, valid_to, source.
func scanAssignment(row pgx.CollectableRow) (Assignment, error) {
	var a Assignment
	err := row.Scan(&a.Serial, &a.Property, &a.From, &a.To, &a.Source)
	a.From = a.From.UTC()
	if a.To != nil {
		to := a.To.UTC()
		a.To = &to
	}
	return a, err
}

// findRouter is lockRouter without the lock.
func findRouter(ctx context.Context, tx pgx.Tx, serial string) (int64, string, error) {
	return lookupRouter(ctx, tx, serial, "")
}

// PropertyAt returns the property the router served at instant at, or ""
// when it served none.
func (s *Store) PropertyAt(ctx context.Context, routerSerial string, at time.Time) (string, error) {
	var name string
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		id, _, err := findRouter(ctx, tx, routerSerial)
		if err != nil {
			return err
		}
		const q = `SELECT coalesce((SELECT p.name FROM router_properties a
			JOIN properties p ON p.id = a.property_id
			WHERE a.router_id = $1 AND tstzrange(a.valid_from, a.valid_to, '[)') @> $2::timestamptz), '')`
		if err := tx.QueryRow(ctx, q, id, at).Scan(&name); err != nil {
			return fmt.Errorf("fleet: read property at: %w", err)
		}
		return nil
	})
	return name, err
}
