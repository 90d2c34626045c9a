package geo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// store reads router cells and keeps the cell cache and location history.
type store struct {
	db *pgxpool.Pool
}

// routerCell is one router's current serving cell.
type routerCell struct {
	id       int64
	serial   string
	observed Observed
	// at is the time of the reading that reported the cell; nil when the
	// router has sent nothing yet.
	at *time.Time
}

// routerCells returns the current cell of every router after id afterID,
// in id order: the cell of its latest reading (the sample at
// router_status.time). router_status itself keeps the last known value
// of each column on its own, so after a reading with "N/A" in one field
// its columns could mix two readings into a cell that never existed;
// the sample is one reading. Without that sample (not expected), the
// status columns are used.
func (s *store) routerCells(ctx context.Context, afterID int64) ([]routerCell, error) {
	rows, err := s.db.Query(ctx, `
		SELECT r.id, r.serial, s.time, x.router_id IS NOT NULL,
		       coalesce(x.network_type, ''), coalesce(x.mcc, ''), coalesce(x.mnc, ''),
		       x.lac, x.tac, x.cell_id,
		       coalesce(s.network_type, ''), coalesce(s.mcc, ''), coalesce(s.mnc, ''),
		       s.lac, s.tac, s.cell_id
		FROM routers r
		JOIN router_status s ON s.router_id = r.id
		LEFT JOIN samples x ON x.router_id = s.router_id AND x.time = s.time
		WHERE r.id > $1
		ORDER BY r.id`, afterID)
	if err != nil {
		return nil, fmt.Errorf("geo: read router cells: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (routerCell, error) {
		var rc routerCell
		var sampled bool
		var x, st Observed
		err := row.Scan(&rc.id, &rc.serial, &rc.at, &sampled,
			&x.NetworkType, &x.MCC, &x.MNC, &x.LAC, &x.TAC, &x.CellID,
			&st.NetworkType, &st.MCC, &st.MNC, &st.LAC, &st.TAC, &st.CellID)
		rc.observed = st
		if sampled {
			rc.observed = x
		}
		return rc, err
	})
	if err != nil {
		return nil, fmt.Errorf("geo: read router cells: %w", err)
	}
	return out, nil
}

// cachedCell is a cache row.
type cachedCell struct {
	loc        Location
	lookedUpAt time.Time
}

// cached returns c's cache row, if any.
func (s *store) cached(ctx context.Context, c Cell) (cachedCell, bool, error) {
	var cc cachedCell
	var lat, lon *float64
	var acc *int
	var msg *string
	err := s.db.QueryRow(ctx, `
		SELECT found, lat, lon, accuracy_m, message, looked_up_at FROM geo_cells
		WHERE radio = $1 AND mcc = $2 AND mnc = $3 AND area = $4 AND cell_id = $5`,
		string(c.Radio), c.MCC, c.MNC, c.Area, c.ID).
		Scan(&cc.loc.Found, &lat, &lon, &acc, &msg, &cc.lookedUpAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return cachedCell{}, false, nil
	}
	if err != nil {
		return cachedCell{}, false, fmt.Errorf("geo: read cache of %s: %w", c, err)
	}

	if lat != nil && lon != nil {
		cc.loc.Lat, cc.loc.Lon = *lat, *lon
	}
	if acc != nil {
		cc.loc.AccuracyM = *acc
	}
	if msg != nil {
		cc.loc.Message = *msg
	}
	return cc, true, nil
}

// save stores the provider's answer for c, replacing an older one.
func (s *store) save(ctx context.Context, c Cell, loc Location, at time.Time) error {
	var lat, lon *float64
	var acc *int
	if loc.Found {
		lat, lon, acc = &loc.Lat, &loc.Lon, &loc.AccuracyM
	}
	_, err := s.db.Exec(ctx, `
		INSERT INTO geo_cells (radio, mcc, mnc, area, cell_id, found, lat, lon, accuracy_m,
		                       message, looked_up_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, nullif($10, ''), $11)
		ON CONFLICT (radio, mcc, mnc, area, cell_id) DO UPDATE
		SET found = EXCLUDED.found, lat = EXCLUDED.lat, lon = EXCLUDED.lon,
		    accuracy_m = EXCLUDED.accuracy_m, message = EXCLUDED.message,
		    looked_up_at = EXCLUDED.looked_up_at`,
		string(c.Radio), c.MCC, c.MNC, c.Area, c.ID, loc.Found, lat, lon, acc, loc.Message, at)
	if err != nil {
		return fmt.Errorf("geo: cache %s: %w", c, err)
	}
	return nil
}

// lastLocation returns the router's last recorded position.
func (s *store) lastLocation(ctx context.Context, routerID int64) (lat, lon float64, ok bool,
	err error) {
	err = s.db.QueryRow(ctx, `
		SELECT lat, lon FROM router_locations WHERE router_id = $1
		ORDER BY observed_at DESC, id DESC LIMIT 1`, routerID).Scan(&lat, &lon)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, 0, false, nil
	}
	if err != nil {
		return 0, 0, false, fmt.Errorf("geo: read last location of router %d: %w", routerID, err)
	}
	return lat, lon, true, nil
}

// addLocation adds a row to the router's history; moved is nil for its
// first.
func (s *store) addLocation(ctx context.Context, routerID int64, at time.Time, c Cell,
	loc Location, moved *float64) error {
	_, err := s.db.Exec(ctx, `
		INSERT INTO router_locations (router_id, observed_at, lat, lon, accuracy_m, moved_m,
		                              radio, mcc, mnc, area, cell_id)
		VALUES ($1, $2, $3, $4, nullif($5, 0), $6, $7, $8, $9, $10, $11)`,
		routerID, at, loc.Lat, loc.Lon, loc.AccuracyM, moved,
		string(c.Radio), c.MCC, c.MNC, c.Area, c.ID)
	if err != nil {
		return fmt.Errorf("geo: record location of router %d: %w", routerID, err)
	}
	return nil
}
