package merge

import (
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/routerlogger/routerlogger/ingest/usage"
)

// storedSample is a stored sample as the recomputation sees it: the
// reading the rules look at, what they stored, and the state after it.
type storedSample struct {
	at               time.Time
	uptime, tx, rx   *int64
	txDelta, rxDelta *int64
	flags            usage.Flags
	state            usage.State
}

// storedColumns are the samples columns [scanStored] reads. The state
// columns are the layout the writer stores (see sql/migrations/0001).
const storedColumns = `time, uptime_s, tx_counter, rx_counter, tx_delta, rx_delta, flags,
	tx_base, tx_pending, tx_pending_at, rx_base, rx_pending, rx_pending_at`

// scanStored reads one row of [storedColumns].
func scanStored(row pgx.CollectableRow) (storedSample, error) {
	var s storedSample
	var flags int32
	var txb, txp, rxb, rxp *int64
	var txa, rxa *time.Time
	err := row.Scan(&s.at, &s.uptime, &s.tx, &s.rx, &s.txDelta, &s.rxDelta, &flags,
		&txb, &txp, &txa, &rxb, &rxp, &rxa)
	if err != nil {
		return s, err
	}
	s.at = s.at.UTC()
	s.flags = usage.Flags(flags)
	s.state = usage.State{Seen: true, Time: s.at, Uptime: s.uptime,
		Tx: counterFrom(txb, txp, txa), Rx: counterFrom(rxb, rxp, rxa)}
	return s, nil
}

// counterFrom rebuilds a counter state from its three stored columns.
func counterFrom(base, pending *int64, pendingAt *time.Time) usage.Counter {
	if base == nil {
		return usage.Counter{}
	}
	c := usage.Counter{Known: true, Base: *base}
	if pending != nil && pendingAt != nil {
		c.Pending, c.PendingValue, c.PendingAt = true, *pending, pendingAt.UTC()
	}
	return c
}

// counterColumns splits a counter state into its three stored columns.
func counterColumns(c usage.Counter) (base, pending *int64, pendingAt *time.Time) {
	if !c.Known {
		return nil, nil, nil
	}
	base = &c.Base
	if c.Pending {
		pending, pendingAt = &c.PendingValue, &c.PendingAt
	}
	return base, pending, pendingAt
}

// stateEqual reports whether two states store the same columns.
func stateEqual(a, b usage.State) bool {
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
