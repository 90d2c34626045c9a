package writer

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/routerlogger/routerlogger/ingest/samples"
	"github.com/routerlogger/routerlogger/ingest/usage"
)

// successorChunk is how many later samples one query loads while
// recomputing; the recomputation usually settles after one or two.
const successorChunk = 64

// insertLate stores a reading older than its router's latest: it applies
// the rules from its predecessor's stored state, inserts it, and
// recomputes the samples after it until their incoming state is what it
// was, moving every change of delta into the rollups.
func (t *txn) insertLate(ctx context.Context, row *sampleRow) error {
	st := t.states[row.routerID]
	var dup bool
	const qd = "SELECT EXISTS (SELECT 1 FROM samples WHERE router_id = $1 AND time = $2)"
	if err := t.tx.QueryRow(ctx, qd, row.routerID, row.r.Time).Scan(&dup); err != nil {
		return fmt.Errorf("late reading: look for duplicate: %w", err)
	}
	if dup {
		t.stat(row.job).duplicates++
		t.results[row.job].Duplicates++
		return nil
	}

	// The state before the late reading is that after its predecessor.
	prev, err := samples.StateBefore(ctx, t.tx, row.routerID, row.r.Time)
	if err != nil {
		return fmt.Errorf("late reading: read predecessor: %w", err)
	}

	step := usage.Apply(prev, usageReading(row.r), t.options(st))
	row.txDelta, row.rxDelta, row.state = step.TxDelta, step.RxDelta, step.Next
	row.flags = step.Flags | usage.FlagLate
	if row.r.TimeMissing {
		row.flags |= usage.FlagNoTimestamp
	}
	ins := fmt.Sprintf("INSERT INTO samples (%s) VALUES (%s)", join(sampleColumns), placeholders(len(sampleColumns)))
	if _, err := t.tx.Exec(ctx, ins, row.values()...); err != nil {
		return fmt.Errorf("late reading: insert: %w", err)
	}
	t.roll(row.routerID, row.r.Time, row.job, contribution(row))
	t.tally(row)
	if err := t.revise(ctx, row.routerID, row.job, step.Revisions); err != nil {
		return err
	}
	t.stat(row.job).accepted++
	t.results[row.job].Accepted++

	return t.recompute(ctx, st, row, prev, step.Next)
}

// recompute walks the samples after a late reading. incoming is the state
// each successor was computed from before; state is what it must now be
// computed from. The walk stops as soon as the two agree.
func (t *txn) recompute(ctx context.Context, st *routerState, late *sampleRow, incoming, state usage.State) error {
	after := late.r.Time
	q := "SELECT " + samples.Columns + ` FROM samples
		WHERE router_id = $1 AND time > $2 ORDER BY time LIMIT $3`
	for {
		rows, _ := t.tx.Query(ctx, q, st.id, after, successorChunk)
		next, err := pgx.CollectRows(rows, samples.Scan)
		if err != nil {
			return fmt.Errorf("late reading: read successors: %w", err)
		}
		for _, s := range next {
			if samples.StateEqual(state, incoming) {
				return nil
			}
			state, err = t.redo(ctx, st, late.job, s, state)
			if err != nil {
				return err
			}
			incoming = s.State
		}
		if len(next) < successorChunk {
			break
		}
		after = next[len(next)-1].At
	}

	// The walk reached the router's latest sample: its state changed.
	st.state = state
	st.dirty = true
	return nil
}

// redo recomputes one stored sample from state and stores what changed.
func (t *txn) redo(ctx context.Context, st *routerState, job int, s samples.Stored,
	state usage.State) (usage.State, error) {
	step := usage.Apply(state, s.Reading(), t.options(st))
	flags := step.Flags | s.Flags&usage.ArrivalFlags
	if err := t.revise(ctx, st.id, job, step.Revisions); err != nil {
		return state, err
	}

	if s.Unchanged(step.TxDelta, step.RxDelta, flags, step.Next) {
		return step.Next, nil
	}

	txb, txp, txa := samples.CounterColumns(step.Next.Tx)
	rxb, rxp, rxa := samples.CounterColumns(step.Next.Rx)
	const u = `UPDATE samples SET tx_delta = $3, rx_delta = $4, flags = $5,
			tx_base = $6, tx_pending = $7, tx_pending_at = $8,
			rx_base = $9, rx_pending = $10, rx_pending_at = $11
		WHERE router_id = $1 AND time = $2`
	_, err := t.tx.Exec(ctx, u, st.id, s.At, step.TxDelta, step.RxDelta, int32(flags),
		txb, txp, txa, rxb, rxp, rxa)
	if err != nil {
		return state, fmt.Errorf("late reading: update successor: %w", err)
	}

	d := rollDelta{
		tx: val(step.TxDelta) - val(s.TxDelta),
		rx: val(step.RxDelta) - val(s.RxDelta),
	}
	if s.Flags&usage.FlagFirst != 0 && flags&usage.FlagFirst == 0 {
		d.samples = 1
	}
	t.roll(st.id, s.At, job, d)
	return step.Next, nil
}

func join(cols []string) string {
	out := ""
	for i, c := range cols {
		if i > 0 {
			out += ", "
		}
		out += c
	}
	return out
}

func placeholders(n int) string {
	out := ""
	for i := 1; i <= n; i++ {
		if i > 1 {
			out += ", "
		}
		out += fmt.Sprintf("$%d", i)
	}
	return out
}
