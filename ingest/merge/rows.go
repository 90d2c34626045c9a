package merge

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/routerlogger/routerlogger/ingest/samples"
)

// statusColumns are the router_status columns of the latest reading; the
// usage state columns follow the recomputation instead.
var statusColumns = []string{
	"time", "received_at", "source", "tx_counter", "rx_counter", "uptime_s", "rsrp", "rsrq",
	"sinr", "rssi", "mcc", "mnc", "lac", "tac", "cell_id", "operator", "network_type", "wan_ip",
}

// status keeps the newer of the two router_status rows for the keeper
// (a value the newer row lacks keeps the older one's, as the writer does),
// stores the recomputed usage state and deletes the duplicate's row.
func (mt *mergeTx) status(ctx context.Context) error {
	dupNewer := mt.dupStatus != nil && (mt.keepStatus == nil || mt.dupStatus.After(*mt.keepStatus))
	if dupNewer {
		set := ""
		for i, c := range statusColumns {
			if i > 0 {
				set += ", "
			}
			set += fmt.Sprintf("%[1]s = coalesce(d.%[1]s, k.%[1]s)", c)
		}
		q := `UPDATE router_status k SET ` + set + `, flags = d.flags
			FROM router_status d WHERE k.router_id = $1 AND d.router_id = $2`
		if _, err := mt.tx.Exec(ctx, q, mt.keepID, mt.dupID); err != nil {
			return fmt.Errorf("merge: take the newer status: %w", err)
		}
	}

	if mt.final != nil {
		txb, txp, txa := samples.CounterColumns(mt.final.Tx)
		rxb, rxp, rxa := samples.CounterColumns(mt.final.Rx)
		const q = `UPDATE router_status SET flags = $2,
				tx_base = $3, tx_pending = $4, tx_pending_at = $5,
				rx_base = $6, rx_pending = $7, rx_pending_at = $8
			WHERE router_id = $1`
		_, err := mt.tx.Exec(ctx, q, mt.keepID, int32(mt.finalFlags), txb, txp, txa, rxb, rxp, rxa)
		if err != nil {
			return fmt.Errorf("merge: store the keeper's usage state: %w", err)
		}
	}

	if _, err := mt.tx.Exec(ctx, "DELETE FROM router_status WHERE router_id = $1", mt.dupID); err != nil {
		return fmt.Errorf("merge: delete the duplicate's status: %w", err)
	}
	return nil
}

// properties moves the duplicate's property periods to the keeper. Where
// they overlap the keeper's own history, the keeper's wins: each period is
// cut to the parts the keeper has no period for, and a period wholly
// covered is dropped.
func (mt *mergeTx) properties(ctx context.Context) error {
	const q = `WITH taken AS (
			SELECT coalesce(range_agg(tstzrange(valid_from, valid_to, '[)')), '{}') AS t
			FROM router_properties WHERE router_id = $1),
		gone AS (
			DELETE FROM router_properties WHERE router_id = $2
			RETURNING id, property_id, valid_from, valid_to, source, created_at),
		pieces AS (
			SELECT g.id, g.property_id, lower(p) AS f, upper(p) AS u, g.source, g.created_at
			FROM gone g CROSS JOIN taken
			CROSS JOIN LATERAL unnest(tstzmultirange(tstzrange(g.valid_from, g.valid_to, '[)')) - taken.t) AS p),
		ins AS (
			INSERT INTO router_properties (router_id, property_id, valid_from, valid_to, source, created_at)
			SELECT $1, property_id, f, u, source, created_at FROM pieces
			RETURNING 1)
		SELECT (SELECT count(*) FROM ins),
			(SELECT count(*) FROM gone g WHERE NOT EXISTS (SELECT 1 FROM pieces p WHERE p.id = g.id))`
	var moved, dropped int64
	if err := mt.tx.QueryRow(ctx, q, mt.keepID, mt.dupID).Scan(&moved, &dropped); err != nil {
		return fmt.Errorf("merge: move property periods: %w", err)
	}
	mt.count("public.router_properties.router_id", moved)
	mt.count("public.router_properties.router_id dropped", dropped)
	return nil
}

// inventory fills the keeper's empty fields from the duplicate and
// widens first and last seen; a 32-bit counter declaration of either row
// is kept. The fields are read from pg_catalog, so a column a later
// migration adds to routers (rms_id, say) is filled too. A value under a
// unique index moves: it is cleared on the duplicate first.
func (mt *mergeTx) inventory(ctx context.Context) error {
	cols, err := inventoryColumns(ctx, mt.tx)
	if err != nil {
		return err
	}
	set := `counter_bits = least(k.counter_bits, d.counter_bits),
		first_seen = least(k.first_seen, d.first_seen), last_seen = greatest(k.last_seen, d.last_seen)`
	for _, c := range cols {
		if !c.unique {
			set += fmt.Sprintf(", %[1]s = coalesce(k.%[1]s, d.%[1]s)", c.name)
		}
	}
	q := "UPDATE routers k SET " + set + " FROM routers d WHERE k.id = $1 AND d.id = $2"
	if _, err := mt.tx.Exec(ctx, q, mt.keepID, mt.dupID); err != nil {
		return fmt.Errorf("merge: fill the keeper's inventory: %w", err)
	}

	for _, c := range cols {
		if c.unique {
			if err := mt.moveUnique(ctx, c); err != nil {
				return err
			}
		}
	}
	return nil
}

// column is a routers column the inventory step fills.
type column struct {
	name, typ string // quoted name, SQL type
	unique    bool   // alone under a unique index
}

// inventoryColumns lists the columns of routers besides the identity,
// serial, seen times and counter width, which the merge sets itself.
func inventoryColumns(ctx context.Context, tx pgx.Tx) ([]column, error) {
	const q = `SELECT quote_ident(a.attname), format_type(a.atttypid, a.atttypmod),
			EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = a.attrelid AND i.indisunique
				AND i.indpred IS NULL AND i.indnkeyatts = 1 AND i.indkey[0] = a.attnum)
		FROM pg_attribute a
		WHERE a.attrelid = 'routers'::regclass AND a.attnum > 0 AND NOT a.attisdropped
			AND a.attgenerated = '' AND a.attidentity = ''
			AND a.attname NOT IN ('id', 'serial', 'counter_bits', 'first_seen', 'last_seen', 'created_at')
		ORDER BY a.attnum`
	rows, _ := tx.Query(ctx, q)
	cols, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (column, error) {
		var c column
		err := row.Scan(&c.name, &c.typ, &c.unique)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("merge: read the columns of routers: %w", err)
	}
	return cols, nil
}

// moveUnique moves the duplicate's value of a unique column to the keeper
// when the keeper has none. The self-join returns the value before the
// update clears it.
func (mt *mergeTx) moveUnique(ctx context.Context, c column) error {
	take := fmt.Sprintf(`UPDATE routers d SET %[1]s = NULL FROM routers o, routers k
		WHERE d.id = $2 AND o.id = $2 AND k.id = $1 AND k.%[1]s IS NULL AND o.%[1]s IS NOT NULL
		RETURNING o.%[1]s::text`, c.name)
	var v string
	err := mt.tx.QueryRow(ctx, take, mt.keepID, mt.dupID).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("merge: clear the duplicate's %s: %w", c.name, err)
	}

	set := fmt.Sprintf("UPDATE routers SET %s = $2::text::%s WHERE id = $1", c.name, c.typ)
	if _, err := mt.tx.Exec(ctx, set, mt.keepID, v); err != nil {
		return fmt.Errorf("merge: move %s to the keeper: %w", c.name, err)
	}
	return nil
}

// record logs the merge in router_merges and deletes the duplicate. The
// delete fails, and the merge with it, if any row still references it.
func (mt *mergeTx) record(ctx context.Context) error {
	const q = `INSERT INTO router_merges (keep_router_id, keep_serial, dup_router_id, dup_serial,
			matched_by, matched_value, samples_moved, samples_dropped, rows_moved)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`
	r := &mt.rep
	_, err := mt.tx.Exec(ctx, q, r.Keep.ID, r.Keep.Serial, r.Dup.ID, r.Dup.Serial, r.MatchedBy,
		r.Value, r.SamplesMoved, r.SamplesDropped, r.Rows)
	if err != nil {
		return fmt.Errorf("merge: record merge: %w", err)
	}

	if _, err := mt.tx.Exec(ctx, "DELETE FROM routers WHERE id = $1", mt.dupID); err != nil {
		return fmt.Errorf("merge: delete the duplicate router: %w", err)
	}
	return nil
}

// count adds n rows under name to the report, skipping zeros.
func (mt *mergeTx) count(name string, n int64) {
	if n != 0 {
		mt.rep.Rows[name] += n
	}
}
