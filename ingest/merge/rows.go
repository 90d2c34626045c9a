package merge

import (
	"context"
	"fmt"
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
		txb, txp, txa := counterColumns(mt.final.Tx)
		rxb, rxp, rxa := counterColumns(mt.final.Rx)
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

// inventory fills the keeper's empty inventory fields from the duplicate
// and widens first and last seen. A 32-bit counter declaration of either
// row is kept.
func (mt *mergeTx) inventory(ctx context.Context) error {
	const q = `UPDATE routers k SET
			name = coalesce(k.name, d.name), model = coalesce(k.model, d.model),
			firmware = coalesce(k.firmware, d.firmware), imei = coalesce(k.imei, d.imei),
			iccid = coalesce(k.iccid, d.iccid), lan_mac = coalesce(k.lan_mac, d.lan_mac),
			wlan_mac = coalesce(k.wlan_mac, d.wlan_mac),
			counter_bits = least(k.counter_bits, d.counter_bits),
			first_seen = least(k.first_seen, d.first_seen),
			last_seen = greatest(k.last_seen, d.last_seen)
		FROM routers d
		WHERE k.id = $1 AND d.id = $2`
	if _, err := mt.tx.Exec(ctx, q, mt.keepID, mt.dupID); err != nil {
		return fmt.Errorf("merge: fill the keeper's inventory: %w", err)
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
