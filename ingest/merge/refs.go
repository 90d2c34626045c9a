package merge

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Ref is a column of some table that references routers through a
// single-column foreign key: the tables a merge must repoint.
type Ref struct {
	// Table is the schema-qualified, quoted table name.
	Table string
	// Column is the referencing column; Target the referenced column of
	// routers (id or serial).
	Column, Target string
	// Constraint names the foreign key.
	Constraint string
	// Unique lists, for each unique index over Column, its other columns:
	// a duplicate's row that would collide with a keeper's row on one of
	// them is dropped (the keeper's wins) before the repoint.
	Unique [][]string
}

// Name is "table.column" as merge reports count it.
func (r Ref) Name() string {
	return strings.ReplaceAll(r.Table, `"`, "") + "." + r.Column
}

// querier is what Refs needs of a pool or transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// Refs finds every foreign key that references routers, from pg_catalog,
// so that a table added by any later migration is repointed without a
// change here. TimescaleDB's chunk copies of a hypertable's keys and the
// keys partitions inherit are left out: updating the parent covers them.
// A multi-column key is an error, since it cannot be repointed column by
// column.
func Refs(ctx context.Context, q querier) ([]Ref, error) {
	const fks = `SELECT c.conrelid::bigint, format('%I.%I', n.nspname, t.relname), a.attname,
			ra.attname, c.conname, cardinality(c.conkey)
		FROM pg_constraint c
		JOIN pg_class t ON t.oid = c.conrelid
		JOIN pg_namespace n ON n.oid = t.relnamespace
		JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
		JOIN pg_attribute ra ON ra.attrelid = c.confrelid AND ra.attnum = c.confkey[1]
		WHERE c.contype = 'f' AND c.confrelid = 'routers'::regclass AND c.conparentid = 0
			AND n.nspname NOT LIKE '\_timescaledb%'
		ORDER BY 2, 3`
	rows, _ := q.Query(ctx, fks)
	type fk struct {
		rel  int64
		ref  Ref
		cols int
	}
	found, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (fk, error) {
		var f fk
		err := row.Scan(&f.rel, &f.ref.Table, &f.ref.Column, &f.ref.Target, &f.ref.Constraint, &f.cols)
		return f, err
	})
	if err != nil {
		return nil, fmt.Errorf("merge: find references to routers: %w", err)
	}

	out := make([]Ref, 0, len(found))
	for _, f := range found {
		if f.cols != 1 || f.ref.Target != "id" && f.ref.Target != "serial" {
			return nil, fmt.Errorf("merge: foreign key %s of %s: only single-column keys on routers.id "+
				"or routers.serial can be repointed", f.ref.Constraint, f.ref.Table)
		}
		if f.ref.Unique, err = uniqueOver(ctx, q, f.rel, f.ref.Column); err != nil {
			return nil, err
		}
		out = append(out, f.ref)
	}
	return out, nil
}

// uniqueOver returns, for each plain unique index of table rel over
// column col, the index's other columns. Partial and expression indexes
// are left out; a collision on one of them fails the merge.
func uniqueOver(ctx context.Context, q querier, rel int64, col string) ([][]string, error) {
	const uq = `SELECT array_agg(a.attname::text ORDER BY k.ord)
		FROM pg_index i
		CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k (attnum, ord)
		JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
		WHERE i.indrelid = $1::bigint::oid AND i.indisunique AND i.indpred IS NULL
			AND i.indexprs IS NULL AND k.ord <= i.indnkeyatts
		GROUP BY i.indexrelid
		HAVING bool_or(a.attname = $2)
		ORDER BY i.indexrelid`
	rows, _ := q.Query(ctx, uq, rel, col)
	idx, err := pgx.CollectRows(rows, pgx.RowTo[[]string])
	if err != nil {
		return nil, fmt.Errorf("merge: read unique indexes: %w", err)
	}
	for i := range idx {
		idx[i] = slices.DeleteFunc(idx[i], func(c string) bool { return c == col })
	}
	return idx, nil
}

// repoint points every remaining reference to the duplicate at the
// keeper. Tables handled by the earlier steps (samples, router_status,
// rollups, router_properties) have no such rows left.
func (mt *mergeTx) repoint(ctx context.Context) error {
	refs, err := Refs(ctx, mt.tx)
	if err != nil {
		return err
	}
	for _, r := range refs {
		keep, dup := any(mt.keepID), any(mt.dupID)
		if r.Target == "serial" {
			keep, dup = mt.rep.Keep.Serial, mt.rep.Dup.Serial
		}
		if err := mt.repointRef(ctx, r, keep, dup); err != nil {
			return err
		}
	}
	return nil
}

// repointRef drops the duplicate's rows of r that collide with the
// keeper's on a unique index, then repoints the rest.
func (mt *mergeTx) repointRef(ctx context.Context, r Ref, keep, dup any) error {
	col := pgx.Identifier{r.Column}.Sanitize()
	for _, others := range r.Unique {
		same := ""
		for _, c := range others {
			id := pgx.Identifier{c}.Sanitize()
			same += fmt.Sprintf(" AND k.%s = d.%s", id, id)
		}
		q := fmt.Sprintf(`DELETE FROM %[1]s d WHERE d.%[2]s = $2
			AND EXISTS (SELECT 1 FROM %[1]s k WHERE k.%[2]s = $1%[3]s)`, r.Table, col, same)
		tag, err := mt.tx.Exec(ctx, q, keep, dup)
		if err != nil {
			return fmt.Errorf("merge: drop colliding rows of %s: %w", r.Name(), err)
		}
		mt.count(r.Name()+" dropped", tag.RowsAffected())
	}

	q := fmt.Sprintf("UPDATE %[1]s SET %[2]s = $1 WHERE %[2]s = $2", r.Table, col)
	tag, err := mt.tx.Exec(ctx, q, keep, dup)
	if err != nil {
		return fmt.Errorf("merge: repoint %s: %w", r.Name(), err)
	}
	mt.count(r.Name(), tag.RowsAffected())
	return nil
}
