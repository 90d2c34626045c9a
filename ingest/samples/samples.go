// Package samples is the stored layout of a sample's usage state: the
// counter state the writer stores with every sample (tx_base, tx_pending,
// tx_pending_at and their rx twins, see sql/migrations/0001_core.sql),
// how a stored sample reads back, and the lookup of the state a series
// continues from. The writer and the merge, the only two paths that write
// samples, both read and write that state through this package, so the
// two can never disagree on what a stored state means.
package samples

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/routerlogger/routerlogger/ingest/usage"
)

// Stored is a stored sample as a recomputation sees it: the reading the
// rules look at, what they stored, and the state after it.
type Stored struct {
	At               time.Time
	Uptime, Tx, Rx   *int64
	TxDelta, RxDelta *int64
	Flags            usage.Flags
	State            usage.State
}

// Columns are the samples columns [Scan] reads, in its order.
const Columns = `time, uptime_s, tx_counter, rx_counter, tx_delta, rx_delta, flags,
	tx_base, tx_pending, tx_pending_at, rx_base, rx_pending, rx_pending_at`

// Scan reads one row of [Columns]. Times come back in UTC.
func Scan(row pgx.CollectableRow) (Stored, error) {
	var s Stored
	var flags int32
	var txb, txp, rxb, rxp *int64
	var txa, rxa *time.Time
	err := row.Scan(&s.At, &s.Uptime, &s.Tx, &s.Rx, &s.TxDelta, &s.RxDelta, &flags,
		&txb, &txp, &txa, &rxb, &rxp, &rxa)
	if err != nil {
		return s, err
	}

	s.At = s.At.UTC()
	s.Flags = usage.Flags(flags)
	s.State = usage.State{Seen: true, Time: s.At, Uptime: s.Uptime,
		Tx: CounterFrom(txb, txp, txa), Rx: CounterFrom(rxb, rxp, rxa)}
	return s, nil
}

// Reading returns the part of s the rules look at.
func (s Stored) Reading() usage.Reading {
	return usage.Reading{Time: s.At, Uptime: s.Uptime, Tx: s.Tx, Rx: s.Rx}
}

// Unchanged reports whether storing the deltas, flags and state after
// the sample would leave s as it is.
func (s Stored) Unchanged(txDelta, rxDelta *int64, flags usage.Flags, next usage.State) bool {
	return ptrEqual(txDelta, s.TxDelta) && ptrEqual(rxDelta, s.RxDelta) &&
		flags == s.Flags && StateEqual(next, s.State)
}

// Querier runs a query: a pgx.Tx, a *pgx.Conn or a *pgxpool.Pool.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// StateBefore returns the usage state after the router's latest sample
// before t, the state a reading at t continues from; the zero state when
// there is none. It does not lock.
func StateBefore(ctx context.Context, q Querier, routerID int64, t time.Time) (usage.State, error) {
	const query = "SELECT " + Columns + ` FROM samples
		WHERE router_id = $1 AND time < $2 ORDER BY time DESC LIMIT 1`
	rows, _ := q.Query(ctx, query, routerID, t)
	pred, err := pgx.CollectRows(rows, Scan)
	if err != nil || len(pred) == 0 {
		return usage.State{}, err
	}
	return pred[0].State, nil
}

// CounterColumns splits a counter state into its three stored columns:
// all nil while the counter is unknown, pending and pendingAt nil while
// no suspect is held.
func CounterColumns(c usage.Counter) (base, pending *int64, pendingAt *time.Time) {
	if !c.Known {
		return nil, nil, nil
	}
	base = &c.Base
	if c.Pending {
		pending, pendingAt = &c.PendingValue, &c.PendingAt
	}
	return base, pending, pendingAt
}

// CounterFrom rebuilds a counter state from its three stored columns, the
// inverse of [CounterColumns].
func CounterFrom(base, pending *int64, pendingAt *time.Time) usage.Counter {
	if base == nil {
		return usage.Counter{}
	}
	c := usage.Counter{Known: true, Base: *base}
	if pending != nil && pendingAt != nil {
		c.Pending, c.PendingValue, c.PendingAt = true, *pending, pendingAt.UTC()
	}
	return c
}

// StateEqual reports whether two states store the same columns, and so
// lead the rules to the same place.
func StateEqual(a, b usage.State) bool {
	if a.Seen != b.Seen || !a.Time.Equal(b.Time) || !ptrEqual(a.Uptime, b.Uptime) {
		return false
	}
	return counterEqual(a.Tx, b.Tx) && counterEqual(a.Rx, b.Rx)
}

func counterEqual(a, b usage.Counter) bool {
	return a.Known == b.Known && a.Base == b.Base && a.Pending == b.Pending &&
		a.PendingValue == b.PendingValue && a.PendingAt.Equal(b.PendingAt)
}

func ptrEqual(a, b *int64) bool {
	return a == nil && b == nil || a != nil && b != nil && *a == *b
}
