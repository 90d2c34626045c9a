// Package merge folds a duplicate router row into the row kept: one device
// that ended up under two rows, say one registered by telemetry under the
// id it sent and one created from RMS under its serial. Rows are paired
// only by a shared IMEI, serial or LAN MAC (canonical, see internal/mac),
// never by name.
//
// Besides the writer, the merge is the one path that changes samples, so
// it lives in ingest, next to the usage rules it reruns. [Merger.Merge]
// works in one transaction:
//
//  1. lock both router_status rows in id order, as the writer does, so a
//     concurrent writer waits instead of deadlocking, then both routers rows;
//  2. move the duplicate's samples to the keeper; a reading at a time the
//     keeper already has is dropped (the keeper's stays) and counted;
//  3. rerun the rules of ingest/usage over the keeper's series from the
//     first moved sample on, storing deltas, flags and state columns;
//  4. rebuild the touched rollups (plain PostgreSQL: usage_hourly and
//     usage_daily of the keeper from the first touched bucket, the
//     duplicate's rows deleted, the difference added to the fleet rollup);
//  5. keep the newer router_status, move property periods (the keeper's
//     history wins where they overlap), fill the keeper's empty inventory;
//  6. repoint every other column that references routers, found in
//     pg_catalog at merge time (see [Refs]), so tables added later are
//     covered without changing this package;
//  7. record the merge in router_merges and delete the duplicate.
//
// On TimescaleDB the rollups are continuous aggregates: after the commit
// the merge refreshes them over the touched range.
package merge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/routerlogger/routerlogger/ingest/usage"
	"github.com/routerlogger/routerlogger/internal/db"
	"github.com/routerlogger/routerlogger/internal/fleet"
)

// Errors callers branch on.
var (
	// ErrNotDuplicate is returned for two routers that share no IMEI,
	// serial or LAN MAC.
	ErrNotDuplicate = errors.New("merge: routers share no IMEI, serial or LAN MAC")
	// ErrUnknownRouter is returned when a router to merge does not exist.
	ErrUnknownRouter = errors.New("merge: unknown router")
)

// mergeShard is the shard of fleet_usage_hourly_parts that merges adjust;
// writers use non-negative shards, so a merge never waits on their rows.
const mergeShard = -1

// Config tunes a [Merger]. Zero values take the defaults.
type Config struct {
	// Gap is the gap threshold of the usage rules; it must be the
	// writer's (default 600 s).
	Gap time.Duration
	// Mode is the storage mode; empty means read it from the database.
	Mode   db.Mode
	Logger *slog.Logger
}

// Merger finds and merges duplicate routers. It is safe for concurrent
// use.
type Merger struct {
	pool *pgxpool.Pool
	cfg  Config
	log  *slog.Logger
}

var _ fleet.Merger = (*Merger)(nil)

// New returns a merger over pool. It does no I/O.
func New(pool *pgxpool.Pool, cfg Config) *Merger {
	if cfg.Gap <= 0 {
		cfg.Gap = usage.DefaultGap
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Merger{pool: pool, cfg: cfg, log: cfg.Logger.With("component", "merge")}
}

// Report is what a merge did, or would do.
type Report struct {
	Keep, Dup        Router
	MatchedBy, Value string
	// SamplesMoved were repointed to the keeper; SamplesDropped were the
	// duplicate's readings at times the keeper already had.
	SamplesMoved, SamplesDropped int64
	// Recomputed counts the keeper's samples the rules were rerun on, and
	// Changed those whose delta, flags or state changed.
	Recomputed, Changed int64
	// From is the first sample time whose usage may have changed; zero
	// when the keeper's series did not change.
	From time.Time
	// Rows counts rows per "table.column" moved to the keeper, and per
	// "table.column dropped" rows of the duplicate deleted because the
	// keeper had one with the same unique key.
	Rows map[string]int64
	// DryRun is set when everything was rolled back.
	DryRun bool
}

// Merge merges router dupID into keepID in one transaction and returns
// what it did. It refuses routers that share no identifier
// ([ErrNotDuplicate]).
func (m *Merger) Merge(ctx context.Context, keepID, dupID int64) (Report, error) {
	return m.run(ctx, keepID, dupID, true)
}

// DryRun does everything Merge does and rolls it back, so the counts are
// exactly those a merge now would give.
func (m *Merger) DryRun(ctx context.Context, keepID, dupID int64) (Report, error) {
	return m.run(ctx, keepID, dupID, false)
}

// MergeRouters is [Merger.Merge] by serials, for [fleet.Merger].
func (m *Merger) MergeRouters(ctx context.Context, keepSerial, dupSerial string) (fleet.MergeResult, error) {
	ids, err := m.IDs(ctx, keepSerial, dupSerial)
	if err != nil {
		return fleet.MergeResult{}, err
	}
	rep, err := m.Merge(ctx, ids[0], ids[1])
	if err != nil {
		return fleet.MergeResult{}, err
	}
	return fleet.MergeResult{KeepSerial: rep.Keep.Serial, DupSerial: rep.Dup.Serial,
		MatchedBy: rep.MatchedBy, SamplesMoved: rep.SamplesMoved, SamplesDropped: rep.SamplesDropped}, nil
}

// IDs returns the router ids of serials, in order.
func (m *Merger) IDs(ctx context.Context, serials ...string) ([]int64, error) {
	out := make([]int64, len(serials))
	for i, s := range serials {
		err := m.pool.QueryRow(ctx, "SELECT id FROM routers WHERE serial = $1", s).Scan(&out[i])
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, fmt.Errorf("%w %q", ErrUnknownRouter, s)
		}
		if err != nil {
			return nil, fmt.Errorf("merge: look up router: %w", err)
		}
	}
	return out, nil
}

// run merges in one transaction, committed when commit is set.
func (m *Merger) run(ctx context.Context, keepID, dupID int64, commit bool) (Report, error) {
	if keepID == dupID {
		return Report{}, errors.New("merge: a router cannot be merged into itself")
	}
	tx, err := m.pool.Begin(ctx)
	if err != nil {
		return Report{}, fmt.Errorf("merge: begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))

	mt := &mergeTx{m: m, tx: tx, keepID: keepID, dupID: dupID,
		rep: Report{Rows: map[string]int64{}, DryRun: !commit}}
	if err := mt.do(ctx); err != nil {
		return Report{}, err
	}
	if !commit {
		return mt.rep, nil
	}
	if err := tx.Commit(ctx); err != nil {
		return Report{}, fmt.Errorf("merge: commit: %w", err)
	}

	m.log.Info("routers merged", "keep", mt.rep.Keep.Serial, "dup", mt.rep.Dup.Serial,
		"matched_by", mt.rep.MatchedBy, "moved", mt.rep.SamplesMoved, "dropped", mt.rep.SamplesDropped)
	if mt.mode == db.ModeTimescale {
		m.refreshAggregates(ctx, mt.touched)
	}
	return mt.rep, nil
}

// mergeTx is the work of one merge transaction.
type mergeTx struct {
	m             *Merger
	tx            pgx.Tx
	keepID, dupID int64
	mode          db.Mode
	bits          int
	rep           Report

	keepStatus, dupStatus *time.Time   // router_status times, nil when never seen
	prev                  usage.State  // keeper's state before the first moved sample
	final                 *usage.State // keeper's state after the recomputation
	finalFlags            usage.Flags
	touched               time.Time // first sample time whose bucket changed; zero if none
	oldFleet              map[time.Time]sums
}

// do runs the steps of the merge.
func (mt *mergeTx) do(ctx context.Context) error {
	st, err := db.Check(ctx, mt.tx)
	if err != nil {
		return fmt.Errorf("merge: check schema (run routerlogger migrate): %w", err)
	}
	mt.mode = orMode(mt.m.cfg.Mode, st.Mode)

	steps := []func(context.Context) error{
		mt.lock, mt.moveSamples, mt.recompute, mt.rollups, mt.status,
		mt.properties, mt.inventory, mt.repoint, mt.record,
	}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return err
		}
	}
	return nil
}

// orMode returns a unless it is empty, else b.
func orMode(a, b db.Mode) db.Mode {
	if a != "" {
		return a
	}
	return b
}
