package merge

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/routerlogger/routerlogger/internal/db"
)

// sums is what samples add to one bucket of a rollup.
type sums struct{ tx, rx, samples int64 }

// plain reports whether the rollups are tables this transaction keeps.
func (mt *mergeTx) plain() bool { return mt.mode != db.ModeTimescale }

// hourlySums returns what the samples of routers from the hour of from on
// add to each hour, as the writer counts it.
func (mt *mergeTx) hourlySums(ctx context.Context, routers []int64,
	from time.Time) (map[time.Time]sums, error) {
	const q = `SELECT date_trunc('hour', time, 'UTC'), coalesce(sum(tx_delta), 0)::bigint,
			coalesce(sum(rx_delta), 0)::bigint, count(*) FILTER (WHERE flags & 1 = 0)
		FROM samples
		WHERE router_id = ANY($1) AND time >= date_trunc('hour', $2::timestamptz, 'UTC')
		GROUP BY 1`
	rows, _ := mt.tx.Query(ctx, q, routers, from)
	out := map[time.Time]sums{}
	var b time.Time
	var s sums
	if _, err := pgx.ForEachRow(rows, []any{&b, &s.tx, &s.rx, &s.samples}, func() error {
		out[b.UTC()] = s
		return nil
	}); err != nil {
		return nil, fmt.Errorf("merge: sum samples per hour: %w", err)
	}
	return out, nil
}

// rollups rebuilds, on plain PostgreSQL, the keeper's hourly and daily
// rows from the first touched bucket on, deletes the duplicate's, and
// adds the difference to the fleet rollup. The rollups are sums of the
// stored deltas, so a rebuild from samples is what the writer would have
// kept.
func (mt *mergeTx) rollups(ctx context.Context) error {
	if mt.touched.IsZero() || !mt.plain() {
		return nil
	}
	for _, r := range []struct{ table, unit string }{{"usage_hourly", "hour"}, {"usage_daily", "day"}} {
		if err := mt.rebuild(ctx, r.table, r.unit); err != nil {
			return err
		}
	}

	after, err := mt.hourlySums(ctx, []int64{mt.keepID}, mt.touched)
	if err != nil {
		return err
	}
	return mt.adjustFleet(ctx, mt.oldFleet, after)
}

// rebuild recomputes one rollup table for the keeper and drops the
// duplicate's rows.
func (mt *mergeTx) rebuild(ctx context.Context, table, unit string) error {
	t := pgx.Identifier{table}.Sanitize()
	del := fmt.Sprintf(`DELETE FROM %s WHERE router_id = $2
		OR router_id = $1 AND bucket >= date_trunc('%s', $3::timestamptz, 'UTC')`, t, unit)
	if _, err := mt.tx.Exec(ctx, del, mt.keepID, mt.dupID, mt.touched); err != nil {
		return fmt.Errorf("merge: clear %s: %w", table, err)
	}

	ins := fmt.Sprintf(`INSERT INTO %[1]s (router_id, bucket, tx_bytes, rx_bytes, samples)
		SELECT $1, date_trunc('%[2]s', time, 'UTC'), coalesce(sum(tx_delta), 0),
			coalesce(sum(rx_delta), 0), count(*) FILTER (WHERE flags & 1 = 0)
		FROM samples
		WHERE router_id = $1 AND time >= date_trunc('%[2]s', $2::timestamptz, 'UTC')
		GROUP BY 2`, t, unit)
	if _, err := mt.tx.Exec(ctx, ins, mt.keepID, mt.touched); err != nil {
		return fmt.Errorf("merge: rebuild %s: %w", table, err)
	}
	return nil
}

// adjustFleet adds after minus before to the merges' shard of the fleet
// rollup, bucket by bucket.
func (mt *mergeTx) adjustFleet(ctx context.Context, before, after map[time.Time]sums) error {
	var buckets []time.Time
	var tx, rx, n []int64
	add := func(b time.Time) {
		d := sums{after[b].tx - before[b].tx, after[b].rx - before[b].rx, after[b].samples - before[b].samples}
		if d == (sums{}) {
			return
		}
		buckets, tx, rx, n = append(buckets, b), append(tx, d.tx), append(rx, d.rx), append(n, d.samples)
	}
	for b := range after {
		add(b)
	}
	for b := range before {
		if _, ok := after[b]; !ok {
			add(b)
		}
	}
	if len(buckets) == 0 {
		return nil
	}

	const q = `INSERT INTO fleet_usage_hourly_parts AS f (bucket, shard, tx_bytes, rx_bytes, samples)
		SELECT b, $2, x, r, n FROM unnest($1::timestamptz[], $3::bigint[], $4::bigint[], $5::bigint[])
			AS u (b, x, r, n)
		ORDER BY b
		ON CONFLICT (bucket, shard) DO UPDATE SET
			tx_bytes = f.tx_bytes + EXCLUDED.tx_bytes,
			rx_bytes = f.rx_bytes + EXCLUDED.rx_bytes,
			samples = f.samples + EXCLUDED.samples`
	if _, err := mt.tx.Exec(ctx, q, buckets, mergeShard, tx, rx, n); err != nil {
		return fmt.Errorf("merge: adjust fleet rollup: %w", err)
	}
	return nil
}

// refreshAggregates refreshes the continuous aggregates of TimescaleDB
// over the touched range, after the commit (a refresh cannot run in a
// transaction block). A failure is logged: the refresh policies cover the
// last 30 (hourly) and 60 (daily) days on their next run, and older
// buckets need `CALL refresh_continuous_aggregate(...)` by hand.
func (m *Merger) refreshAggregates(ctx context.Context, touched time.Time) {
	if touched.IsZero() {
		return
	}
	for _, c := range []struct{ view, unit string }{
		{"usage_hourly", "hour"}, {"fleet_usage_hourly_parts", "hour"}, {"usage_daily", "day"},
	} {
		q := fmt.Sprintf(`CALL refresh_continuous_aggregate('%s',
			date_trunc('%s', $1::timestamptz, 'UTC'), NULL)`, c.view, c.unit)
		if _, err := m.pool.Exec(ctx, q, touched); err != nil {
			m.log.Warn("refresh continuous aggregate after merge", "view", c.view,
				"from", touched, "error", err)
		}
	}
}
