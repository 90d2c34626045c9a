package clickup

import (
	"context"
	"errors"
	"fmt"

	"github.com/routerlogger/routerlogger/internal/breaker"
)

// errFieldWrites is the error of a router some of whose field writes
// failed; the next run resends those.
var errFieldWrites = errors.New("field writes failed")

// syncRouter brings r's task up to date. A failure of this router alone
// goes to run.Fail and nil is returned; the error returned stops the pass
// (rate limit past the deadline, authorization, database, ctx).
func (j *Job) syncRouter(ctx context.Context, p *pass, r router) error {
	if p.rediscover && !p.rediscovered {
		p.rediscovered = true
		fs, err := j.fields(ctx, p.run, true)
		if err != nil {
			return err
		}
		p.fields, p.rediscover = fs, false
	}

	st, err := j.store.task(ctx, r.ID)
	if err != nil {
		return err
	}
	d := j.want(r, p.fields, p.now)
	if st.taskID != "" && st.hash == d.hash {
		p.run.AddSkipped(1)
		return j.assignProperty(ctx, p, r, st)
	}

	err = j.writeRouter(ctx, p, r, &st, d)
	switch {
	case err == nil:
		p.run.AddChanged(1)
		if err := j.store.synced(ctx, r.ID, d.hash, j.cfg.Clock.Now()); err != nil {
			return err
		}
		j.log.Debug("clickup task synced", "serial", r.Serial, "task", st.taskID)
		return j.assignProperty(ctx, p, r, st)
	case fatal(ctx, err):
		p.run.Fail(r.Serial, err)
		return err
	default:
		p.run.Fail(r.Serial, err)
		j.log.Debug("clickup task sync failed", "serial", r.Serial, "error", err)
		return nil
	}
}

// fatal reports whether err stops the pass rather than one router: a
// rate limit, an authorization error, an open breaker (ClickUp is down),
// the run's end, or the database.
func fatal(ctx context.Context, err error) bool {
	_, limited := RetryAfter(err)
	var dbErr interface{ SQLState() string }
	return limited || IsAuth(err) || errors.Is(err, breaker.ErrOpen) || ctx.Err() != nil ||
		errors.As(err, &dbErr)
}

// writeRouter makes every write r's task lacks: the create (or the
// look-up of a create whose answer was lost), the core fields, each
// custom field not yet holding its value, and the status comment.
func (j *Job) writeRouter(ctx context.Context, p *pass, r router, st *taskState, d desired) error {
	if st.taskID == "" {
		created, err := j.ensureTask(ctx, p, r, st, d)
		if err != nil || created {
			return err
		}
	}

	if h := hashOf(d.core); st.written["core"] != h {
		if err := j.client.UpdateTask(ctx, st.taskID, d.core); err != nil {
			return j.taskGone(ctx, r, err)
		}
		if err := j.store.written(ctx, r.ID, "core", h); err != nil {
			return err
		}
	}

	var failed []error
	for _, w := range d.writes {
		h := w.hash()
		if st.written[w.field.ID] == h {
			continue
		}
		err := j.client.SetField(ctx, st.taskID, w.field.ID, w.value, w.opts)
		if err != nil {
			if fatal(ctx, err) {
				return err
			}
			if IsFieldGone(err) {
				p.rediscover = true
				if derr := j.store.dropFieldCache(ctx, j.cfg.ListID); derr != nil {
					return derr
				}
			}
			failed = append(failed, fmt.Errorf("%s: %w", w.field.Name, err))
			continue
		}
		if err := j.store.written(ctx, r.ID, w.field.ID, h); err != nil {
			return err
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%w: %w", errFieldWrites, errors.Join(failed...))
	}

	return j.comment(ctx, r, st, d.status)
}

// ensureTask gives r a task: it finds the one a lost create may have made,
// or creates one with every custom field. created reports that the create
// carried all of d's writes.
func (j *Job) ensureTask(ctx context.Context, p *pass, r router, st *taskState,
	d desired) (bool, error) {
	if st.createStarted {
		id, err := j.findTask(ctx, p, r, d)
		if err != nil {
			return false, err
		}
		if id != "" {
			j.log.Info("clickup task found after an unanswered create", "serial", r.Serial, "task", id)
			st.taskID, st.written = id, map[string]string{}
			return false, j.store.setTask(ctx, r.ID, j.cfg.ListID, id, st.written, "")
		}
	}

	if err := j.store.startCreate(ctx, r.ID, j.cfg.ListID); err != nil {
		return false, err
	}
	t := NewTask{Name: d.core.Name, Status: d.core.Status, Tags: j.cfg.Tags,
		CheckRequiredCustomFields: true}
	written := map[string]string{"core": hashOf(d.core)}
	for _, w := range d.writes {
		t.CustomFields = append(t.CustomFields, FieldValue{ID: w.field.ID, Value: w.value,
			ValueOptions: w.opts})
		written[w.field.ID] = w.hash()
	}
	task, err := j.client.CreateTask(ctx, j.cfg.ListID, t)
	if err != nil {
		if Unsent(err) {
			return false, errors.Join(err, j.store.abandonCreate(ctx, r.ID))
		}
		return false, err // maybe created: the next try looks it up first
	}

	st.taskID, st.written = task.ID, written
	if err := j.store.setTask(ctx, r.ID, j.cfg.ListID, task.ID, written, d.status); err != nil {
		return false, err
	}
	j.log.Info("clickup task created", "serial", r.Serial, "task", task.ID)
	return true, nil
}

// findTask looks for r's task in the list: by the Serial Number field
// when the list has one, else by the task name.
func (j *Job) findTask(ctx context.Context, p *pass, r router, d desired) (string, error) {
	serialField := p.fields.byKey[FieldSerial].ID
	for page := 0; ; page++ {
		tasks, last, err := j.client.ListTasks(ctx, j.cfg.ListID, page)
		if err != nil {
			return "", err
		}
		for _, t := range tasks {
			if serialField != "" && t.fieldText(serialField) == r.Serial {
				return t.ID, nil
			}
			if serialField == "" && t.Name == d.core.Name {
				return t.ID, nil
			}
		}
		if last {
			return "", nil
		}
	}
}

// comment adds a comment when the router went offline or came back since
// the task last showed its status, and records the new status.
func (j *Job) comment(ctx context.Context, r router, st *taskState, status string) error {
	if st.lastStatus == status {
		return nil
	}
	if st.lastStatus != "" {
		text := fmt.Sprintf("%s is back online.", cmpOr(r.Name, r.Serial))
		if status == StatusOffline {
			text = fmt.Sprintf("%s went offline: no reading for more than %s.",
				cmpOr(r.Name, r.Serial), j.cfg.OfflineAfter)
			if r.LastSeen != nil {
				text += " Last seen " + r.LastSeen.UTC().Format("2006-01-02 15:04:05Z") + "."
			}
		}
		if err := j.client.Comment(ctx, st.taskID, text); err != nil {
			return j.taskGone(ctx, r, err)
		}
		j.log.Info("clickup status comment", "serial", r.Serial, "status", status)
	}
	if err := j.store.setStatus(ctx, r.ID, status); err != nil {
		return err
	}
	st.lastStatus = status
	return nil
}

// taskGone forgets r's task when ClickUp says it no longer exists, so
// that the next run creates it again; it returns err.
func (j *Job) taskGone(ctx context.Context, r router, err error) error {
	if !IsNotFound(err) {
		return err
	}
	j.log.Warn("clickup task gone; it is created again next run", "serial", r.Serial)
	return errors.Join(err, j.store.forget(ctx, r.ID))
}
