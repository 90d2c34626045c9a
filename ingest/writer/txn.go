package writer

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/routerlogger/routerlogger/ingest/reading"
	"github.com/routerlogger/routerlogger/ingest/samples"
	"github.com/routerlogger/routerlogger/ingest/usage"
	"github.com/routerlogger/routerlogger/internal/db"
)

// routerState is a locked router_status row: the usage state after the
// router's latest reading, and what this transaction changed of it.
type routerState struct {
	id     int64
	serial string
	bits   int
	state  usage.State
	latest *sampleRow // newest appended reading, if any
	dirty  bool       // state changed by a late reading's recomputation
	inv    inventory
	invSet bool
}

// inventory is what a reading tells of the router itself.
type inventory struct {
	name, model, firmware, imei, iccid, mac, wlanMAC string
	bits                                             int
	first, last                                      time.Time // reading times, minute precision
	// fwAt is the time of the newest reading that named firmware.
	fwAt time.Time
}

type rollKey struct {
	router int64
	bucket time.Time
}

type rollDelta struct{ tx, rx, samples int64 }

func (r *rollDelta) add(d rollDelta) {
	r.tx += d.tx
	r.rx += d.rx
	r.samples += d.samples
}

type statKey struct {
	minute time.Time
	source reading.Source
}

type statCount struct{ accepted, duplicates, rejected int64 }

// txn is the work of one transaction over a group of jobs.
type txn struct {
	w       *Writer
	tx      pgx.Tx
	worker  int
	jobs    []*job
	results []Result

	ids     map[string]int64
	aliases map[string]int64 // merged serials a router token posted for, to the router kept
	states  map[int64]*routerState
	rows    []*sampleRow
	rowAt   map[rollKey]*sampleRow // appended rows by router and time
	late    []*sampleRow
	hourly  map[rollKey]*rollDelta
	daily   map[rollKey]*rollDelta
	fleet   map[time.Time]*rollDelta // fleet usage per hour
	stats   map[statKey]*statCount
	rejects []rejectRow
	batch   *pgx.Batch // statements of finish, sent together
}

type rejectRow struct {
	Reject
	job int
}

// runWithRetry runs the group once more when the first attempt failed in a
// way that certainly did not commit (a dropped connection, a deadlock).
func (w *Writer) runWithRetry(worker int, jobs []*job) ([]Result, error) {
	for attempt := 0; ; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), w.cfg.Timeout)
		res, err := w.run(ctx, worker, jobs)
		cancel()
		if err == nil || attempt > 0 || !retryable(err) {
			return res, err
		}
		w.log.Debug("retrying batch", "error", err)
	}
}

// retryable reports whether err left nothing committed and a new attempt
// may succeed.
func retryable(err error) bool {
	if errors.Is(err, errRouterGone) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "40001", "40P01", "57P01":
			return true
		}
	}
	return pgconn.SafeToRetry(err)
}

// run executes one transaction over jobs and returns one result per job.
func (w *Writer) run(ctx context.Context, worker int, jobs []*job) ([]Result, error) {
	tx, err := w.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))

	t := &txn{
		w: w, tx: tx, worker: worker, jobs: jobs,
		results: make([]Result, len(jobs)),
		states:  map[int64]*routerState{},
		rowAt:   map[rollKey]*sampleRow{},
		hourly:  map[rollKey]*rollDelta{},
		daily:   map[rollKey]*rollDelta{},
		fleet:   map[time.Time]*rollDelta{},
		stats:   map[statKey]*statCount{},
	}
	if err := t.resolveRouters(ctx); err != nil {
		return nil, err
	}
	if err := t.lockStates(ctx); err != nil {
		return nil, err
	}

	// Readings in time order per router, so that batches which arrive out
	// of order within one group cost nothing; a reading older than what is
	// already committed waits for the copy, so that it sees every newer
	// sample.
	for _, ref := range t.order() {
		if err := t.place(ctx, ref.job, ref.reading); err != nil {
			return nil, err
		}
	}
	for ji, j := range jobs {
		for _, rej := range j.batch.Rejects {
			t.reject(ji, rej)
		}
	}

	if err := t.copySamples(ctx); err != nil {
		return nil, err
	}
	for _, row := range t.late {
		if err := t.insertLate(ctx, row); err != nil {
			return nil, err
		}
	}

	if err := t.finish(ctx); err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	t.remember()
	return t.results, nil
}

// readingRef names reading ri of job ji.
type readingRef struct{ job, reading int }

// order returns every reading of the group sorted by serial and time,
// arrival order breaking ties.
func (t *txn) order() []readingRef {
	var refs []readingRef
	for ji, j := range t.jobs {
		for ri := range j.batch.Readings {
			j.batch.Readings[ri].Time = j.batch.Readings[ri].Time.UTC().Truncate(time.Microsecond)
			refs = append(refs, readingRef{ji, ri})
		}
	}
	slices.SortStableFunc(refs, func(a, b readingRef) int {
		ra, rb := &t.jobs[a.job].batch.Readings[a.reading], &t.jobs[b.job].batch.Readings[b.reading]
		return cmp.Or(strings.Compare(ra.DeviceID, rb.DeviceID), ra.Time.Compare(rb.Time))
	})
	return refs
}

// resolveRouters finds the id of every serial in the group, creating the
// routers that jobs with Register may create.
func (t *txn) resolveRouters(ctx context.Context) error {
	t.ids = map[string]int64{}
	var lookup, create, foreign []string
	seen := map[string]bool{}
	for _, j := range t.jobs {
		for i := range j.batch.Readings {
			s := j.batch.Readings[i].DeviceID
			if j.batch.AllowRouter != "" && s != j.batch.AllowRouter {
				// Allowed only when merged into the token's router.
				foreign = append(foreign, s)
				s = j.batch.AllowRouter
			}
			if ri, ok := t.w.routers.get(s); ok {
				t.ids[s] = ri.id
				continue
			}
			if !seen[s] {
				seen[s] = true
				lookup = append(lookup, s)
			}
			if j.batch.Register {
				create = append(create, s)
			}
		}
	}
	if err := t.resolveAliases(ctx, foreign); err != nil {
		return err
	}
	if len(lookup) == 0 {
		return nil
	}

	if len(create) > 0 {
		slices.Sort(create)
		create = slices.Compact(create)
		if err := t.register(ctx, create); err != nil {
			return err
		}
	}

	const q = `SELECT serial, id FROM routers WHERE serial = ANY($1)
		UNION ALL
		(SELECT DISTINCT ON (m.dup_serial) m.dup_serial, m.keep_router_id FROM router_merges m
		 WHERE m.dup_serial = ANY($1) AND NOT EXISTS (SELECT 1 FROM routers r WHERE r.serial = m.dup_serial)
		 ORDER BY m.dup_serial, m.merged_at DESC, m.id DESC)`
	rows, _ := t.tx.Query(ctx, q, lookup)
	var serial string
	var id int64
	_, err := pgx.ForEachRow(rows, []any{&serial, &id}, func() error {
		t.ids[serial] = id
		return nil
	})
	if err != nil {
		return fmt.Errorf("look up routers: %w", err)
	}
	return nil
}

// register creates the routers of serials that do not exist yet. A serial
// merged into another router (ingest/merge) is not registered again: its
// readings go to the router kept.
func (t *txn) register(ctx context.Context, serials []string) error {
	const q = `INSERT INTO routers (serial) SELECT s FROM unnest($1::text[]) AS s
		WHERE NOT EXISTS (SELECT 1 FROM router_merges m WHERE m.dup_serial = s)
		ON CONFLICT (serial) DO NOTHING
		RETURNING serial`
	rows, _ := t.tx.Query(ctx, q, serials)
	created, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("register routers: %w", err)
	}
	if len(created) == 0 {
		return nil
	}

	// The insert waited for a merge that was deleting one of these serials
	// and saw its router_merges row only after: take such routers back.
	const undo = `WITH again AS (
			SELECT r.id FROM routers r JOIN router_merges m ON m.dup_serial = r.serial
			WHERE r.serial = ANY($1)),
		status AS (DELETE FROM router_status WHERE router_id IN (SELECT id FROM again))
		DELETE FROM routers WHERE id IN (SELECT id FROM again)`
	if _, err := t.tx.Exec(ctx, undo, created); err != nil {
		return fmt.Errorf("register routers: drop merged serials: %w", err)
	}
	return nil
}

// resolveAliases notes which of the serials a router token posted for,
// besides its own, were merged into another router (ingest/merge), and
// into which: a router keeps sending the serial of the row merged away.
func (t *txn) resolveAliases(ctx context.Context, serials []string) error {
	t.aliases = map[string]int64{}
	if len(serials) == 0 {
		return nil
	}
	const q = `SELECT DISTINCT ON (dup_serial) dup_serial, keep_router_id FROM router_merges
		WHERE dup_serial = ANY($1) ORDER BY dup_serial, merged_at DESC, id DESC`
	rows, _ := t.tx.Query(ctx, q, serials)
	var serial string
	var id int64
	_, err := pgx.ForEachRow(rows, []any{&serial, &id}, func() error {
		t.aliases[serial] = id
		return nil
	})
	if err != nil {
		return fmt.Errorf("look up merged serials: %w", err)
	}
	return nil
}

// lockStates locks the status row of every router in the group, in id
// order, and reads the usage state after each router's latest reading.
func (t *txn) lockStates(ctx context.Context) error {
	ids := make([]int64, 0, len(t.ids))
	for _, id := range t.ids {
		ids = append(ids, id)
	}
	slices.Sort(ids)

	const q = `SELECT s.router_id, r.serial, r.counter_bits, s.time, s.uptime_s,
			s.tx_base, s.tx_pending, s.tx_pending_at, s.rx_base, s.rx_pending, s.rx_pending_at
		FROM router_status s JOIN routers r ON r.id = s.router_id
		WHERE s.router_id = ANY($1)
		ORDER BY s.router_id
		FOR UPDATE OF s`
	rows, _ := t.tx.Query(ctx, q, ids)
	var (
		rs                 routerState
		bits               int16
		at                 *time.Time
		uptime             *int64
		txb, txp, rxb, rxp *int64
		txa, rxa           *time.Time
	)
	scan := []any{&rs.id, &rs.serial, &bits, &at, &uptime, &txb, &txp, &txa, &rxb, &rxp, &rxa}
	_, err := pgx.ForEachRow(rows, scan, func() error {
		st := &routerState{id: rs.id, serial: rs.serial, bits: int(bits)}
		if at != nil {
			st.state = usage.State{Seen: true, Time: at.UTC(), Uptime: uptime,
				Tx: samples.CounterFrom(txb, txp, txa), Rx: samples.CounterFrom(rxb, rxp, rxa)}
		}
		t.states[st.id] = st
		return nil
	})
	if err != nil {
		return fmt.Errorf("lock router status: %w", err)
	}
	return t.checkGone()
}

// errRouterGone says that a router of the group was merged into another
// (ingest/merge) after its id was looked up; a retry looks it up again.
var errRouterGone = errors.New("router merged away since it was looked up")

// checkGone fails the transaction, retryably, when a router id of the
// group has no status row any more, and forgets its cached id.
func (t *txn) checkGone() error {
	var gone []string
	for serial, id := range t.ids {
		if _, ok := t.states[id]; !ok {
			gone = append(gone, serial)
			t.w.routers.forget(serial)
		}
	}
	if len(gone) == 0 {
		return nil
	}
	slices.Sort(gone)
	return fmt.Errorf("%w: %s", errRouterGone, strings.Join(gone, ", "))
}

// place decides what to do with reading ri of job ji: reject, duplicate,
// append or hold as late. Its rejects carry ri as their index.
func (t *txn) place(ctx context.Context, ji, ri int) error {
	b := &t.jobs[ji].batch
	r := &b.Readings[ri]

	serial := r.DeviceID
	if b.AllowRouter != "" && serial != b.AllowRouter {
		if id, ok := t.aliases[serial]; !ok || id != t.ids[b.AllowRouter] {
			t.reject(ji, Reject{Index: ri, Serial: r.DeviceID, Field: "device_id",
				Reason: "this token may only post for router " + b.AllowRouter})
			return nil
		}
		serial = b.AllowRouter
	}
	id, ok := t.ids[serial]
	if !ok {
		t.reject(ji, Reject{Index: ri, Serial: r.DeviceID, Field: "device_id",
			Reason: "unknown router: post with a fleet token to register it"})
		return nil
	}
	st := t.states[id]
	t.noteInventory(st, r)

	row := &sampleRow{routerID: id, r: r, job: ji, source: b.Source, received: b.Received}
	switch {
	case st.state.Seen && r.Time.Equal(st.state.Time):
		t.stat(ji).duplicates++
		t.results[ji].Duplicates++
	case st.state.Seen && r.Time.Before(st.state.Time):
		t.late = append(t.late, row)
	default:
		if err := t.appendRow(ctx, st, row); err != nil {
			return err
		}
		t.stat(ji).accepted++
		t.results[ji].Accepted++
	}
	return nil
}

// appendRow applies the rules to a reading newer than the router's latest.
func (t *txn) appendRow(ctx context.Context, st *routerState, row *sampleRow) error {
	step := usage.Apply(st.state, usageReading(row.r), t.options(st))
	row.txDelta, row.rxDelta, row.state = step.TxDelta, step.RxDelta, step.Next
	row.flags = step.Flags
	if row.r.TimeMissing {
		row.flags |= usage.FlagNoTimestamp
	}
	st.state = step.Next
	st.latest = row

	t.rows = append(t.rows, row)
	t.rowAt[rollKey{st.id, row.r.Time}] = row
	return t.revise(ctx, st.id, row.job, step.Revisions)
}

// options returns the rule options for a router.
func (t *txn) options(st *routerState) usage.Options {
	bits := st.bits
	if st.invSet && st.inv.bits != 0 {
		bits = st.inv.bits
	}
	return usage.Options{CounterBits: bits, Gap: t.w.cfg.Gap}
}

// revise applies revisions of earlier readings: in memory for rows of
// this transaction not yet copied, else as an update of the stored row.
func (t *txn) revise(ctx context.Context, router int64, job int, revs []usage.Revision) error {
	for _, rev := range revs {
		if row, ok := t.rowAt[rollKey{router, rev.At}]; ok {
			if rev.Dir == usage.Tx {
				row.txDelta = &rev.Delta
			} else {
				row.rxDelta = &rev.Delta
			}
			row.flags = rev.Flags(row.flags)
			continue
		}
		if err := t.reviseStored(ctx, router, job, rev); err != nil {
			return err
		}
	}
	return nil
}

// reviseStored updates the delta and flags of a stored sample and moves
// the difference into the rollups.
func (t *txn) reviseStored(ctx context.Context, router int64, job int, rev usage.Revision) error {
	col := "tx_delta"
	if rev.Dir == usage.Rx {
		col = "rx_delta"
	}
	mask := int32(rev.Dir.Glitch() | rev.Dir.Reset())
	set := int32(rev.Flags(0))
	q := fmt.Sprintf(`WITH old AS (
			SELECT %[1]s AS delta, flags FROM samples
			WHERE router_id = $1 AND time = $2 FOR UPDATE)
		UPDATE samples s SET %[1]s = $3, flags = (old.flags & ~$4::integer) | $5::integer
		FROM old
		WHERE s.router_id = $1 AND s.time = $2
		RETURNING old.delta, old.flags`, col)

	var oldDelta *int64
	var oldFlags int32
	err := t.tx.QueryRow(ctx, q, router, rev.At, rev.Delta, mask, set).Scan(&oldDelta, &oldFlags)
	if errors.Is(err, pgx.ErrNoRows) {
		// The suspect was removed (a router merge); nothing to revise.
		return nil
	}
	if err != nil {
		return fmt.Errorf("revise sample: %w", err)
	}

	diff := rev.Delta - val(oldDelta)
	d := rollDelta{}
	if rev.Dir == usage.Tx {
		d.tx = diff
	} else {
		d.rx = diff
	}
	t.roll(router, rev.At, job, d)
	return nil
}

// roll adds d to the hour and day of at, and to the job's usage.
func (t *txn) roll(router int64, at time.Time, job int, d rollDelta) {
	t.results[job].TxAdded += d.tx
	t.results[job].RxAdded += d.rx
	if t.w.cfg.Mode == db.ModeTimescale {
		return
	}
	for _, m := range []struct {
		into   map[rollKey]*rollDelta
		bucket time.Time
	}{{t.hourly, hour(at)}, {t.daily, day(at)}} {
		k := rollKey{router, m.bucket}
		acc := m.into[k]
		if acc == nil {
			acc = &rollDelta{}
			m.into[k] = acc
		}
		acc.add(d)
	}
	acc := t.fleet[hour(at)]
	if acc == nil {
		acc = &rollDelta{}
		t.fleet[hour(at)] = acc
	}
	acc.add(d)
}

// reject records an input that could not be accepted.
func (t *txn) reject(ji int, rej Reject) {
	t.rejects = append(t.rejects, rejectRow{Reject: rej, job: ji})
	t.results[ji].Rejected = append(t.results[ji].Rejected, rej)
	t.stat(ji).rejected++
}

// stat returns the ingest counters of the minute and source job ji
// arrived with.
func (t *txn) stat(ji int) *statCount {
	b := &t.jobs[ji].batch
	k := statKey{minute: b.Received.UTC().Truncate(time.Minute), source: b.Source}
	c := t.stats[k]
	if c == nil {
		c = &statCount{}
		t.stats[k] = c
	}
	return c
}

// copySamples copies the appended rows and adds them to the rollups.
func (t *txn) copySamples(ctx context.Context) error {
	if len(t.rows) == 0 {
		return nil
	}
	src := pgx.CopyFromSlice(len(t.rows), func(i int) ([]any, error) { return t.rows[i].values(), nil })
	if _, err := t.tx.CopyFrom(ctx, pgx.Identifier{"samples"}, sampleColumns, src); err != nil {
		return fmt.Errorf("copy samples: %w", err)
	}
	for _, row := range t.rows {
		t.roll(row.routerID, row.r.Time, row.job, contribution(row))
		t.tally(row)
	}

	// From here on, revisions must reach the stored rows.
	clear(t.rowAt)
	return nil
}

// tally counts the events of a stored row in its job's result.
func (t *txn) tally(row *sampleRow) {
	for _, ev := range row.flags.Events() {
		res := &t.results[row.job]
		if res.Events == nil {
			res.Events = map[string]int{}
		}
		res.Events[ev]++
	}
}

// contribution is what a row adds to its buckets.
func contribution(row *sampleRow) rollDelta {
	d := rollDelta{tx: val(row.txDelta), rx: val(row.rxDelta)}
	if row.flags&usage.FlagFirst == 0 {
		d.samples = 1
	}
	return d
}
