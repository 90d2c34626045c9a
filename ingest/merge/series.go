package merge

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/routerlogger/routerlogger/ingest/samples"
	"github.com/routerlogger/routerlogger/ingest/usage"
)

// lock locks both router_status rows in id order, the order the writer
// locks them in, then both routers rows, and checks that the two rows
// are one device.
func (mt *mergeTx) lock(ctx context.Context) error {
	ids := []int64{mt.keepID, mt.dupID}
	slices.Sort(ids)

	const qs = `SELECT router_id, time FROM router_status
		WHERE router_id = ANY($1) ORDER BY router_id FOR UPDATE`
	rows, _ := mt.tx.Query(ctx, qs, ids)
	times := map[int64]*time.Time{}
	var id int64
	var at *time.Time
	if _, err := pgx.ForEachRow(rows, []any{&id, &at}, func() error {
		times[id] = at
		return nil
	}); err != nil {
		return fmt.Errorf("merge: lock router status: %w", err)
	}
	mt.keepStatus, mt.dupStatus = times[mt.keepID], times[mt.dupID]

	if err := mt.lockRouters(ctx, ids); err != nil {
		return err
	}
	if _, ok := times[mt.keepID]; !ok {
		return fmt.Errorf("%w: id %d has no status row", ErrUnknownRouter, mt.keepID)
	}
	if _, ok := times[mt.dupID]; !ok {
		return fmt.Errorf("%w: id %d has no status row", ErrUnknownRouter, mt.dupID)
	}

	by, value, ok := Match(mt.rep.Keep, mt.rep.Dup)
	if !ok {
		return fmt.Errorf("%w: %s and %s", ErrNotDuplicate, mt.rep.Keep.Serial, mt.rep.Dup.Serial)
	}
	mt.rep.MatchedBy, mt.rep.Value = by, value
	return nil
}

// lockRouters locks and reads both routers rows.
func (mt *mergeTx) lockRouters(ctx context.Context, ids []int64) error {
	const q = `SELECT id, serial, coalesce(name, ''), coalesce(imei, ''), coalesce(lan_mac, ''),
			counter_bits
		FROM routers WHERE id = ANY($1) ORDER BY id FOR UPDATE`
	rows, _ := mt.tx.Query(ctx, q, ids)
	var r Router
	var bits int16
	found := 0
	mt.bits = 64
	_, err := pgx.ForEachRow(rows, []any{&r.ID, &r.Serial, &r.Name, &r.IMEI, &r.LANMAC, &bits}, func() error {
		found++
		if r.ID == mt.keepID {
			mt.rep.Keep = r
		} else {
			mt.rep.Dup = r
		}
		// A 32-bit declaration is explicit; 64 is only the default.
		mt.bits = min(mt.bits, int(bits))
		return nil
	})
	if err != nil {
		return fmt.Errorf("merge: lock routers: %w", err)
	}
	if found != 2 {
		return fmt.Errorf("%w: ids %d and %d", ErrUnknownRouter, mt.keepID, mt.dupID)
	}
	return nil
}

// moveSamples drops the duplicate's samples at times the keeper has and
// moves the rest to the keeper. Before that it notes where the keeper's
// series starts to change and, on plain PostgreSQL, what the touched
// samples added to the fleet rollup.
func (mt *mergeTx) moveSamples(ctx context.Context) error {
	if err := mt.plan(ctx); err != nil {
		return err
	}
	if !mt.touched.IsZero() && mt.plain() {
		sums, err := mt.hourlySums(ctx, []int64{mt.keepID, mt.dupID}, mt.touched)
		if err != nil {
			return err
		}
		mt.oldFleet = sums
	}

	const drop = `DELETE FROM samples d USING samples k
		WHERE d.router_id = $2 AND k.router_id = $1 AND k.time = d.time`
	tag, err := mt.tx.Exec(ctx, drop, mt.keepID, mt.dupID)
	if err != nil {
		return fmt.Errorf("merge: drop samples the keeper has: %w", err)
	}
	mt.rep.SamplesDropped = tag.RowsAffected()

	tag, err = mt.tx.Exec(ctx, "UPDATE samples SET router_id = $1 WHERE router_id = $2", mt.keepID, mt.dupID)
	if err != nil {
		return fmt.Errorf("merge: move samples: %w", err)
	}
	mt.rep.SamplesMoved = tag.RowsAffected()
	return nil
}

// plan finds the first sample to move, the keeper's state before it and
// the first time whose rollup bucket changes.
func (mt *mergeTx) plan(ctx context.Context) error {
	const q = `SELECT (SELECT min(time) FROM samples WHERE router_id = $2),
		(SELECT min(d.time) FROM samples d WHERE d.router_id = $2
		 AND NOT EXISTS (SELECT 1 FROM samples k WHERE k.router_id = $1 AND k.time = d.time))`
	var dupFirst, from *time.Time
	if err := mt.tx.QueryRow(ctx, q, mt.keepID, mt.dupID).Scan(&dupFirst, &from); err != nil {
		return fmt.Errorf("merge: find samples to move: %w", err)
	}
	if dupFirst == nil {
		return nil
	}
	mt.touched = dupFirst.UTC()
	if from == nil {
		return nil
	}
	mt.rep.From = from.UTC()

	prev, err := samples.StateBefore(ctx, mt.tx, mt.keepID, mt.rep.From)
	if err != nil {
		return fmt.Errorf("merge: read the keeper's state: %w", err)
	}
	mt.prev = prev

	// A suspect held before the first moved sample may be settled by it.
	mt.touched = earliest(mt.touched, mt.rep.From)
	for _, c := range []usage.Counter{mt.prev.Tx, mt.prev.Rx} {
		if c.Pending {
			mt.touched = earliest(mt.touched, c.PendingAt)
		}
	}
	return nil
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || b.Before(a) {
		return b
	}
	return a
}

// redone is a sample after the rules were rerun.
type redone struct {
	txDelta, rxDelta *int64
	flags            usage.Flags
	next             usage.State
}

// recompute reruns the usage rules over the keeper's samples from the
// first moved one, in time order from the state before it, and stores
// every delta, flag set and state that changed.
func (mt *mergeTx) recompute(ctx context.Context) error {
	if mt.rep.From.IsZero() {
		return nil
	}
	q := "SELECT " + samples.Columns + " FROM samples WHERE router_id = $1 AND time >= $2 ORDER BY time"
	rows, _ := mt.tx.Query(ctx, q, mt.keepID, mt.rep.From)
	series, err := pgx.CollectRows(rows, samples.Scan)
	if err != nil {
		return fmt.Errorf("merge: read the merged series: %w", err)
	}
	if len(series) == 0 {
		return errors.New("merge: moved samples not found in the keeper's series")
	}

	opt := usage.Options{CounterBits: mt.bits, Gap: mt.m.cfg.Gap}
	out, outside := replay(mt.prev, series, opt)
	if err := mt.storeRedone(ctx, series, out); err != nil {
		return err
	}
	for _, rev := range outside {
		if err := mt.reviseStored(ctx, rev); err != nil {
			return err
		}
	}

	last := out[len(out)-1]
	mt.final, mt.finalFlags = &last.next, last.flags
	mt.rep.Recomputed = int64(len(series))
	return nil
}

// replay applies the rules to series from prev like the writer would have
// had the readings come in time order, and returns the settled samples
// and the revisions of samples before the series.
func replay(prev usage.State, series []samples.Stored, opt usage.Options) ([]redone, []usage.Revision) {
	out := make([]redone, len(series))
	index := make(map[int64]int, len(series))
	var outside []usage.Revision

	state := prev
	for i, s := range series {
		step := usage.Apply(state, s.Reading(), opt)
		out[i] = redone{txDelta: step.TxDelta, rxDelta: step.RxDelta,
			flags: step.Flags | s.Flags&usage.ArrivalFlags, next: step.Next}
		index[s.At.UnixMicro()] = i
		state = step.Next

		for _, rev := range step.Revisions {
			k, ok := index[rev.At.UnixMicro()]
			if !ok {
				outside = append(outside, rev)
				continue
			}
			d := rev.Delta
			if rev.Dir == usage.Tx {
				out[k].txDelta = &d
			} else {
				out[k].rxDelta = &d
			}
			out[k].flags = rev.Flags(out[k].flags)
		}
	}
	return out, outside
}

// storeRedone writes the recomputed samples that changed, in one
// statement.
func (mt *mergeTx) storeRedone(ctx context.Context, series []samples.Stored, out []redone) error {
	var (
		times              []time.Time
		txd, rxd           []*int64
		flags              []int32
		txb, txp, rxb, rxp []*int64
		txa, rxa           []*time.Time
	)
	for i, s := range series {
		r := out[i]
		if s.Unchanged(r.txDelta, r.rxDelta, r.flags, r.next) {
			continue
		}
		b1, p1, a1 := samples.CounterColumns(r.next.Tx)
		b2, p2, a2 := samples.CounterColumns(r.next.Rx)
		times, txd, rxd = append(times, s.At), append(txd, r.txDelta), append(rxd, r.rxDelta)
		flags = append(flags, int32(r.flags))
		txb, txp, txa = append(txb, b1), append(txp, p1), append(txa, a1)
		rxb, rxp, rxa = append(rxb, b2), append(rxp, p2), append(rxa, a2)
	}
	mt.rep.Changed = int64(len(times))
	if len(times) == 0 {
		return nil
	}

	const q = `UPDATE samples s SET tx_delta = u.txd, rx_delta = u.rxd, flags = u.flags,
			tx_base = u.txb, tx_pending = u.txp, tx_pending_at = u.txa,
			rx_base = u.rxb, rx_pending = u.rxp, rx_pending_at = u.rxa
		FROM unnest($2::timestamptz[], $3::bigint[], $4::bigint[], $5::integer[],
			$6::bigint[], $7::bigint[], $8::timestamptz[], $9::bigint[], $10::bigint[], $11::timestamptz[])
			AS u (time, txd, rxd, flags, txb, txp, txa, rxb, rxp, rxa)
		WHERE s.router_id = $1 AND s.time = u.time`
	_, err := mt.tx.Exec(ctx, q, mt.keepID, times, txd, rxd, flags, txb, txp, txa, rxb, rxp, rxa)
	if err != nil {
		return fmt.Errorf("merge: store recomputed samples: %w", err)
	}
	return nil
}

// reviseStored settles a suspect sample before the merged series, as the
// writer does when a reading settles it.
func (mt *mergeTx) reviseStored(ctx context.Context, rev usage.Revision) error {
	col := "tx_delta"
	if rev.Dir == usage.Rx {
		col = "rx_delta"
	}
	mask := int32(rev.Dir.Glitch() | rev.Dir.Reset())
	q := fmt.Sprintf(`UPDATE samples SET %s = $3, flags = (flags & ~$4::integer) | $5::integer
		WHERE router_id = $1 AND time = $2`, col)
	if _, err := mt.tx.Exec(ctx, q, mt.keepID, rev.At, rev.Delta, mask, int32(rev.Flags(0))); err != nil {
		return fmt.Errorf("merge: revise suspect sample: %w", err)
	}
	return nil
}
