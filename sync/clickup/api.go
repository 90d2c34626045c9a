package clickup

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Field is a custom field of a list.
type Field struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Type       string     `json:"type"`
	TypeConfig TypeConfig `json:"type_config"`
	Required   bool       `json:"required"`
}

// TypeConfig holds what the field sync uses of a field's type_config.
type TypeConfig struct {
	Options []Option `json:"options,omitempty"`
}

// Option is a drop_down or labels option. ClickUp sets a drop-down by the
// option's id and reads it back as its orderindex.
type Option struct {
	ID         string  `json:"id"`
	Name       string  `json:"name"`
	OrderIndex flexInt `json:"orderindex"`
}

// FieldValue is one custom-field value of a create request.
type FieldValue struct {
	ID           string        `json:"id"`
	Value        any           `json:"value"`
	ValueOptions *ValueOptions `json:"value_options,omitempty"`
}

// ValueOptions qualifies a date value: time true means the time of day
// counts.
type ValueOptions struct {
	Time bool `json:"time"`
}

// NewTask is the body of a task create.
type NewTask struct {
	Name                      string       `json:"name"`
	Status                    string       `json:"status,omitempty"`
	Tags                      []string     `json:"tags,omitempty"`
	NotifyAll                 bool         `json:"notify_all"`
	CheckRequiredCustomFields bool         `json:"check_required_custom_fields"`
	CustomFields              []FieldValue `json:"custom_fields,omitempty"`
}

// TaskUpdate is the body of a task update; custom fields are written one
// by one with [Client.SetField].
type TaskUpdate struct {
	Name   string `json:"name"`
	Status string `json:"status,omitempty"`
}

// Task is what the sync reads of a task.
type Task struct {
	ID           string      `json:"id"`
	Name         string      `json:"name"`
	CustomFields []TaskField `json:"custom_fields"`
}

// TaskField is a custom field of a task with its value; Value is nil when
// the field was never set.
type TaskField struct {
	Field
	Value json.RawMessage `json:"value,omitempty"`
}

// Fields returns the custom fields of list.
func (c *Client) Fields(ctx context.Context, list string) ([]Field, error) {
	var out struct {
		Fields []Field `json:"fields"`
	}
	err := c.do(ctx, "GET", "/list/"+url.PathEscape(list)+"/field", nil, &out)
	return out.Fields, err
}

// CreateTask creates a task in list and returns it.
func (c *Client) CreateTask(ctx context.Context, list string, t NewTask) (Task, error) {
	var out Task
	err := c.do(ctx, "POST", "/list/"+url.PathEscape(list)+"/task", t, &out)
	if err == nil && out.ID == "" {
		err = fmt.Errorf("clickup: POST /list/%s/task: answer without a task id", list)
	}
	return out, err
}

// UpdateTask updates a task's core fields.
func (c *Client) UpdateTask(ctx context.Context, task string, u TaskUpdate) error {
	return c.do(ctx, "PUT", "/task/"+url.PathEscape(task), u, nil)
}

// SetField writes one custom field of a task.
func (c *Client) SetField(ctx context.Context, task, field string, value any, opts *ValueOptions) error {
	body := struct {
		Value        any           `json:"value"`
		ValueOptions *ValueOptions `json:"value_options,omitempty"`
	}{value, opts}
	return c.do(ctx, "POST", "/task/"+url.PathEscape(task)+"/field/"+url.PathEscape(field), body, nil)
}

// Comment adds a comment to a task.
func (c *Client) Comment(ctx context.Context, task, text string) error {
	body := map[string]any{"comment_text": text, "notify_all": false}
	return c.do(ctx, "POST", "/task/"+url.PathEscape(task)+"/comment", body, nil)
}

// ListTasks returns one page (from 0) of list's tasks, closed ones
// included, and whether it was the last.
func (c *Client) ListTasks(ctx context.Context, list string, page int) ([]Task, bool, error) {
	var out struct {
		Tasks    []Task `json:"tasks"`
		LastPage *bool  `json:"last_page"`
	}
	q := url.Values{"page": {strconv.Itoa(page)}, "include_closed": {"true"}, "subtasks": {"true"}}
	err := c.do(ctx, "GET", "/list/"+url.PathEscape(list)+"/task?"+q.Encode(), nil, &out)
	last := len(out.Tasks) < 100
	if out.LastPage != nil {
		last = *out.LastPage
	}
	return out.Tasks, last, err
}

// flexInt is an integer sent as a JSON number or a string.
type flexInt int64

func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "" || s == "null" {
		*f = 0
		return nil
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("not a number: %s", b)
	}
	*f = flexInt(n)
	return nil
}

// text returns a task field's value as text: a string as is, a number in
// its shortest form, a drop-down as its option's name.
func (tf TaskField) text() string {
	if len(tf.Value) == 0 || string(tf.Value) == "null" {
		return ""
	}
	var s string
	if tf.Type != "drop_down" {
		if json.Unmarshal(tf.Value, &s) == nil {
			return s
		}
		return string(tf.Value)
	}

	var n flexInt
	isIndex := n.UnmarshalJSON(tf.Value) == nil
	isID := json.Unmarshal(tf.Value, &s) == nil
	for _, o := range tf.TypeConfig.Options {
		if (isIndex && o.OrderIndex == n) || (isID && o.ID == s) {
			return o.Name
		}
	}
	return ""
}
