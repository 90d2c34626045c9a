package clickup

import (
	"context"
	"fmt"
)

// propertySource is the source recorded with assignments made here.
const propertySource = "clickup"

// fieldText returns the text of the task's custom field id ("" when unset).
func (t Task) fieldText(id string) string {
	for _, f := range t.CustomFields {
		if f.ID == id {
			return f.text()
		}
	}
	return ""
}

// loadProperties reads the Property value of every task of the list (a
// few paged requests per run) when properties are on and the list has the
// field.
func (j *Job) loadProperties(ctx context.Context, p *pass) error {
	f, ok := p.fields.byKey[FieldProperty]
	if j.cfg.Property == nil || !ok {
		return nil
	}
	p.props = map[string]string{}
	for page := 0; ; page++ {
		tasks, last, err := j.client.ListTasks(ctx, j.cfg.ListID, page)
		if err != nil {
			return fmt.Errorf("read properties: %w", err)
		}
		for _, t := range tasks {
			if v := t.fieldText(f.ID); v != "" {
				p.props[t.ID] = v
			}
		}
		if last {
			return nil
		}
	}
}

// assignProperty hands a router's property to the assigner when its task
// shows one that differs from the one last assigned. A failure is the
// router's alone.
func (j *Job) assignProperty(ctx context.Context, p *pass, r router, st taskState) error {
	prop := p.props[st.taskID]
	if p.props == nil || prop == "" || prop == st.property {
		return nil
	}
	if err := j.cfg.Property.AssignProperty(ctx, r.Serial, prop, p.now, propertySource); err != nil {
		p.run.Fail(r.Serial, fmt.Errorf("assign property %q: %w", prop, err))
		return nil
	}
	j.log.Debug("clickup property assigned", "serial", r.Serial, "property", prop)
	return j.store.setProperty(ctx, r.ID, prop)
}
