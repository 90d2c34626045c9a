package clickup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// store reads and writes the job's tables. Every write is its own
// statement (its own transaction), so what succeeded against ClickUp is
// recorded at once, whatever happens next.
type store struct {
	db *pgxpool.Pool
}

// taskState is a router's row in clickup_tasks.
type taskState struct {
	exists bool
	// taskID is empty while no task is known.
	taskID string
	// createStarted is set while a create was sent and its answer not
	// recorded: the task may exist without us knowing its id.
	createStarted bool
	hash          string
	// written holds, per field id (and "core"), the hash of the value
	// last written.
	written    map[string]string
	lastStatus string
	property   string
}

// task returns the state of router's task.
func (s *store) task(ctx context.Context, router int64) (taskState, error) {
	st := taskState{written: map[string]string{}}
	var taskID, hash, status, prop *string
	var started *time.Time
	var written []byte
	err := s.db.QueryRow(ctx, `
		SELECT task_id, create_started_at, change_hash, written, last_operational_status, last_property
		FROM clickup_tasks WHERE router_id = $1`, router).
		Scan(&taskID, &started, &hash, &written, &status, &prop)
	if errors.Is(err, pgx.ErrNoRows) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("read task of router %d: %w", router, err)
	}
	st.exists, st.createStarted = true, started != nil
	st.taskID, st.hash, st.lastStatus, st.property = deref(taskID), deref(hash), deref(status), deref(prop)
	if err := json.Unmarshal(written, &st.written); err != nil {
		st.written = map[string]string{}
	}
	return st, nil
}

// startCreate records that a create of router's task is about to be sent.
func (s *store) startCreate(ctx context.Context, router int64, list string) error {
	_, err := s.db.Exec(ctx, `
		INSERT INTO clickup_tasks (router_id, list_id, create_started_at) VALUES ($1, $2, now())
		ON CONFLICT (router_id) DO UPDATE SET list_id = EXCLUDED.list_id,
			create_started_at = now(), updated_at = now()`, router, list)
	if err != nil {
		return fmt.Errorf("record create of router %d: %w", router, err)
	}
	return nil
}

// abandonCreate records that a create was refused (so no task exists).
func (s *store) abandonCreate(ctx context.Context, router int64) error {
	_, err := s.db.Exec(ctx, `
		UPDATE clickup_tasks SET create_started_at = NULL, updated_at = now()
		WHERE router_id = $1 AND task_id IS NULL`, router)
	if err != nil {
		return fmt.Errorf("record refused create of router %d: %w", router, err)
	}
	return nil
}

// setTask records router's task id with the writes it carried and the
// operational status it was created or found with.
func (s *store) setTask(ctx context.Context, router int64, list, task string,
	written map[string]string, status string) error {
	raw, err := json.Marshal(written)
	if err != nil {
		return err
	}
	_, err = s.db.Exec(ctx, `
		INSERT INTO clickup_tasks (router_id, list_id, task_id, written, last_operational_status)
		VALUES ($1, $2, $3, $4, nullif($5, ''))
		ON CONFLICT (router_id) DO UPDATE SET list_id = EXCLUDED.list_id,
			task_id = EXCLUDED.task_id, written = EXCLUDED.written, create_started_at = NULL,
			change_hash = NULL,
			last_operational_status = coalesce(EXCLUDED.last_operational_status,
				clickup_tasks.last_operational_status),
			updated_at = now()`, router, list, task, raw, status)
	if err != nil {
		return fmt.Errorf("record task %s of router %d: %w", task, router, err)
	}
	return nil
}

// written records one successful write (a field id or "core") of router.
func (s *store) written(ctx context.Context, router int64, key, hash string) error {
	_, err := s.db.Exec(ctx, `
		UPDATE clickup_tasks SET written = written || jsonb_build_object($2::text, $3::text),
			updated_at = now()
		WHERE router_id = $1`, router, key, hash)
	if err != nil {
		return fmt.Errorf("record write of router %d: %w", router, err)
	}
	return nil
}

// setStatus records the operational status the task now shows (after the
// comment on the change, when one was due).
func (s *store) setStatus(ctx context.Context, router int64, status string) error {
	_, err := s.db.Exec(ctx, `
		UPDATE clickup_tasks SET last_operational_status = $2, updated_at = now()
		WHERE router_id = $1`, router, status)
	if err != nil {
		return fmt.Errorf("record status of router %d: %w", router, err)
	}
	return nil
}

// setProperty records the property last assigned from the task.
func (s *store) setProperty(ctx context.Context, router int64, property string) error {
	_, err := s.db.Exec(ctx, `
		UPDATE clickup_tasks SET last_property = $2, updated_at = now() WHERE router_id = $1`,
		router, property)
	if err != nil {
		return fmt.Errorf("record property of router %d: %w", router, err)
	}
	return nil
}

// synced records that every write of router went through: hash is the
// change hash of what the task now holds.
func (s *store) synced(ctx context.Context, router int64, hash string, at time.Time) error {
	_, err := s.db.Exec(ctx, `
		UPDATE clickup_tasks SET change_hash = $2, synced_at = $3, updated_at = now()
		WHERE router_id = $1`, router, hash, at)
	if err != nil {
		return fmt.Errorf("record sync of router %d: %w", router, err)
	}
	return nil
}

// forget removes router's task row (the task was deleted in ClickUp), so
// the next run creates a new one.
func (s *store) forget(ctx context.Context, router int64) error {
	if _, err := s.db.Exec(ctx, `DELETE FROM clickup_tasks WHERE router_id = $1`, router); err != nil {
		return fmt.Errorf("forget task of router %d: %w", router, err)
	}
	return nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
