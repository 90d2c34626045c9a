package fleet

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// AssignProperty records that the router with serial routerSerial serves
// the property propertyName from at on, with source naming who said so
// ("clickup", "cli"). In one transaction it creates the property when it
// is new, closes the router's current period at at and opens the new one.
//
// It is idempotent: when the router's current period is already at that
// property, nothing changes and Change.Changed is false, so a sync job may
// call it on every run. A serial merged into another router (see
// ingest/merge) names the router it was merged into.
//
// It returns [ErrUnknownRouter], [ErrNotAfterCurrent] when at is not after
// the current period's start, and [ErrOverlap] when the new period would
// overlap a later period of the history.
func (s *Store) AssignProperty(ctx context.Context, routerSerial, propertyName string,
	at time.Time, source string) (Change, error) {
	propertyName = strings.TrimSpace(propertyName)
	if propertyName == "" {
		return Change{}, errors.New("fleet: assign: empty property name")
	}
	if source == "" {
		return Change{}, errors.New("fleet: assign: empty source")
	}
	at = at.UTC().Truncate(time.Microsecond)

	var ch Change
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		ch, err = assign(ctx, tx, routerSerial, propertyName, at, source)
		return err
	})
	return ch, err
}

// assign is AssignProperty inside tx.
func assign(ctx context.Context, tx pgx.Tx, serial, property string, at time.Time,
	source string) (Change, error) {
	routerID, serial, err := lockRouter(ctx, tx, serial)
	if err != nil {
		return Change{}, err
	}
	propertyID, err := ensureProperty(ctx, tx, property)
	if err != nil {
		return Change{}, err
	}

	cur, curProperty, err := currentPeriod(ctx, tx, routerID)
	if err != nil {
		return Change{}, err
	}
	if cur != nil && curProperty == propertyID {
		return Change{Current: *cur}, nil
	}

	ch := Change{Changed: true}
	if cur != nil {
		if !at.After(cur.From) {
			return Change{}, fmt.Errorf("%w: %s is at %s since %s", ErrNotAfterCurrent,
				serial, cur.Property, cur.From.Format(time.RFC3339))
		}
		const closeQ = `UPDATE router_properties SET valid_to = $2
			WHERE router_id = $1 AND valid_to IS NULL`
		if _, err := tx.Exec(ctx, closeQ, routerID, at); err != nil {
			return Change{}, fmt.Errorf("fleet: close current period: %w", err)
		}
		cur.To = &at
		ch.Closed = cur
	}

	const openQ = `INSERT INTO router_properties (router_id, property_id, valid_from, source)
		VALUES ($1, $2, $3, $4)`
	if _, err := tx.Exec(ctx, openQ, routerID, propertyID, at, source); err != nil {
		if isOverlap(err) {
			return Change{}, fmt.Errorf("%w: %s from %s", ErrOverlap, serial, at.Format(time.RFC3339))
		}
		return Change{}, fmt.Errorf("fleet: open period: %w", err)
	}
	ch.Current = Assignment{Serial: serial, Property: property, From: at, Source: source}
	return ch, nil
}

// lockRouter finds the router of serial, or of a serial merged into it,
// and locks its row so that concurrent assignments of one router queue.
// It returns the id and the router's own serial.
func lockRouter(ctx context.Context, tx pgx.Tx, serial string) (int64, string, error) {
	return lookupRouter(ctx, tx, serial, "FOR NO KEY UPDATE")
}

// lookupRouter finds the router of serial or of a serial merged into it,
// with the row lock clause lock (or none).
func lookupRouter(ctx context.Context, tx pgx.Tx, serial, lock string) (int64, string, error) {
	q := `SELECT id, serial FROM routers
		WHERE id = coalesce(
			(SELECT id FROM routers WHERE serial = $1),
			(SELECT keep_router_id FROM router_merges WHERE dup_serial = $1
			 ORDER BY merged_at DESC, id DESC LIMIT 1)) ` + lock
	var id int64
	var own string
	err := tx.QueryRow(ctx, q, serial).Scan(&id, &own)
	if errors.Is(err, pgx.ErrNoRows) && lock != "" {
		// The row was merged away while this waited for its lock; a new
		// statement sees the merge and finds the router kept.
		err = tx.QueryRow(ctx, q, serial).Scan(&id, &own)
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, "", fmt.Errorf("%w %q", ErrUnknownRouter, serial)
	}
	if err != nil {
		return 0, "", fmt.Errorf("fleet: look up router: %w", err)
	}
	return id, own, nil
}

// ensureProperty returns the id of the property named name, creating it.
func ensureProperty(ctx context.Context, tx pgx.Tx, name string) (int64, error) {
	const q = `WITH ins AS (
			INSERT INTO properties (name) VALUES ($1)
			ON CONFLICT (name) DO NOTHING RETURNING id)
		SELECT id FROM ins UNION ALL SELECT id FROM properties WHERE name = $1`
	var id int64
	if err := tx.QueryRow(ctx, q, name).Scan(&id); err != nil {
		return 0, fmt.Errorf("fleet: create property: %w", err)
	}
	return id, nil
}

// currentPeriod returns the router's open period and its property id, or
// nil when the router has none.
func currentPeriod(ctx context.Context, tx pgx.Tx, routerID int64) (*Assignment, int64, error) {
	const q = `SELECT r.serial, p.name, a.valid_from, a.source, a.property_id
		FROM router_properties a
		JOIN routers r ON r.id = a.router_id
		JOIN properties p ON p.id = a.property_id
		WHERE a.router_id = $1 AND a.valid_to IS NULL`
	var a Assignment
	var propertyID int64
	err := tx.QueryRow(ctx, q, routerID).Scan(&a.Serial, &a.Property, &a.From, &a.Source, &propertyID)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("fleet: read current period: %w", err)
	}
	a.From = a.From.UTC()
	return &a, propertyID, nil
}

// Unassign ends the router's current period at at, so that from then on
// it serves no property. It is idempotent: a router without a current
// period is left alone and Change.Changed is false. It returns
// [ErrUnknownRouter] and [ErrNotAfterCurrent] like AssignProperty.
func (s *Store) Unassign(ctx context.Context, routerSerial string, at time.Time) (Change, error) {
	at = at.UTC().Truncate(time.Microsecond)
	var ch Change
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		routerID, serial, err := lockRouter(ctx, tx, routerSerial)
		if err != nil {
			return err
		}
		cur, _, err := currentPeriod(ctx, tx, routerID)
		if err != nil || cur == nil {
			return err
		}
		if !at.After(cur.From) {
			return fmt.Errorf("%w: %s is at %s since %s", ErrNotAfterCurrent,
				serial, cur.Property, cur.From.Format(time.RFC3339))
		}

		const q = "UPDATE router_properties SET valid_to = $2 WHERE router_id = $1 AND valid_to IS NULL"
		if _, err := tx.Exec(ctx, q, routerID, at); err != nil {
			return fmt.Errorf("fleet: close current period: %w", err)
		}
		cur.To = &at
		ch = Change{Changed: true, Closed: cur}
		return nil
	})
	return ch, err
}

// UpsertProperty stores a property's details and returns its id. A
// property is found by its ClickUp id when p has one (so a rename in
// ClickUp renames it here), else by name; it is created when not found.
// Empty fields of p leave the stored values as they are.
func (s *Store) UpsertProperty(ctx context.Context, p Property) (int64, error) {
	p.Name = strings.TrimSpace(p.Name)
	if p.Name == "" {
		return 0, errors.New("fleet: upsert property: empty name")
	}
	var id int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		const byClickUp = `UPDATE properties SET name = $2,
				address = coalesce(nullif($3, ''), address), notes = coalesce(nullif($4, ''), notes)
			WHERE clickup_id = $1 RETURNING id`
		err := tx.QueryRow(ctx, byClickUp, p.ClickUpID, p.Name, p.Address, p.Notes).Scan(&id)
		if err == nil || !errors.Is(err, pgx.ErrNoRows) {
			return upsertError(err)
		}

		const byName = `INSERT INTO properties (name, address, notes, clickup_id)
			VALUES ($1, nullif($2, ''), nullif($3, ''), nullif($4, ''))
			ON CONFLICT (name) DO UPDATE SET
				address = coalesce(EXCLUDED.address, properties.address),
				notes = coalesce(EXCLUDED.notes, properties.notes),
				clickup_id = coalesce(EXCLUDED.clickup_id, properties.clickup_id)
			RETURNING id`
		return upsertError(tx.QueryRow(ctx, byName, p.Name, p.Address, p.Notes, p.ClickUpID).Scan(&id))
	})
	return id, err
}

// upsertError wraps a failed property upsert, nil staying nil.
func upsertError(err error) error {
	if err != nil {
		return fmt.Errorf("fleet: upsert property: %w", err)
	}
	return nil
}
