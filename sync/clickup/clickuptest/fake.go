// Package clickuptest is a stateful fake of the ClickUp API v2 for tests,
// built from the shared fixtures. Only tests import it.
package clickuptest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/routerlogger/routerlogger/internal/testkit"
)

// Fake is a stateful fake of the ClickUp API v2 built from the
// fixtures: it serves the list's fields, creates tasks with ids, stores
// field values and comments, and records every request. Answers can be
// scripted per request (see [Fake.On]).
type Fake struct {
	t   testing.TB
	srv *httptest.Server
	// Token is the token the fake accepts.
	Token string
	list  string

	mu        sync.Mutex
	fields    []map[string]any
	tasks     map[string]*Task
	order     []string
	nextID    int
	reqs      []Request
	script    []*Scripted
	oauthHits int
	// headers are added to every answer (rate-limit headers).
	headers http.Header
}

// Task is a task held by the fake.
type Task struct {
	ID       string
	Name     string
	Status   string
	Values   map[string]json.RawMessage
	Comments []string
}

// Request is a request the fake received.
type Request struct {
	Method string
	Path   string
	Body   json.RawMessage
}

// Scripted is a canned answer for the next times requests that match.
// With after set the request is carried out first and only its answer is
// replaced (a create whose answer is lost).
type Scripted struct {
	Method, PathHas string
	// Skip lets that many matching requests through first.
	Skip   int
	Times  int
	After  bool
	Status int
	Header http.Header
	Body   string
}

// List is the id of the fake's list.
const List = "901200000001"

// Token is the personal token the fake accepts.
const Token = "pk_FAKE_90000001_TOKEN"

// New starts a fake; it stops when the test ends.
func New(t testing.TB) *Fake {
	t.Helper()
	f := &Fake{t: t, Token: Token, list: List,
		tasks: map[string]*Task{}, headers: http.Header{}}
	var doc struct {
		Fields []map[string]any `json:"fields"`
	}
	ReadJSON(t, "clickup-list-fields.json", &doc)
	f.fields = doc.Fields
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// URL is the API base of the fake.
func (f *Fake) URL() string { return f.srv.URL + "/api/v2" }

// On scripts an answer for the next times requests of method whose path
// contains pathHas.
func (f *Fake) On(s *Scripted) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.script = append(f.script, s)
}

// RemoveField takes the field named name out of the list.
func (f *Fake) RemoveField(name string) (restore func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, fd := range f.fields {
		if fd["name"] == name {
			f.fields = append(f.fields[:i:i], f.fields[i+1:]...)
			return func() {
				f.mu.Lock()
				defer f.mu.Unlock()
				f.fields = append(f.fields, fd)
			}
		}
	}
	f.t.Fatalf("fake: no field %q", name)
	return nil
}

// Requests returns the recorded requests and forgets them.
func (f *Fake) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.reqs
	f.reqs = nil
	return out
}

// OAuthHits returns how many token requests the fake received.
func (f *Fake) OAuthHits() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.oauthHits
}

// SetHeaders sets headers added to every answer from now on.
func (f *Fake) SetHeaders(h http.Header) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.headers = h
}

// AddField adds a custom field to the list.
func (f *Fake) AddField(field map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fields = append(f.fields, field)
}

// SetValue sets a task's custom-field value as a person in ClickUp would.
func (f *Fake) SetValue(task, field string, raw json.RawMessage) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tasks[task].Values[field] = raw
}

// Tasks returns copies of the tasks in creation order.
func (f *Fake) Tasks() []Task {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Task
	for _, id := range f.order {
		out = append(out, f.copyTask(f.tasks[id]))
	}
	return out
}

func (f *Fake) copyTask(t *Task) Task {
	c := *t
	c.Values = map[string]json.RawMessage{}
	for k, v := range t.Values {
		c.Values[k] = v
	}
	c.Comments = append([]string(nil), t.Comments...)
	return c
}

// TaskByName returns a copy of the task named name (nil: none).
func (f *Fake) TaskByName(name string) *Task {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, id := range f.order {
		if f.tasks[id].Name == name {
			c := f.copyTask(f.tasks[id])
			return &c
		}
	}
	return nil
}

func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	path := strings.TrimPrefix(r.URL.Path, "/api/v2")

	f.mu.Lock()
	defer f.mu.Unlock()
	f.reqs = append(f.reqs, Request{Method: r.Method, Path: path, Body: body})
	for k, v := range f.headers {
		w.Header()[k] = v
	}

	if r.Method == "POST" && path == "/oauth/token" {
		f.oauthHits++
		raw, _ := os.ReadFile(filepath.Join(testkit.FixturesDir(f.t), "clickup-oauth-token.json"))
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(raw)
		return
	}
	switch auth := r.Header.Get("Authorization"); {
	case auth == "":
		fail(w, 401, "OAUTH_017", "Authorization header required")
		return
	case auth != f.Token:
		fail(w, 401, "OAUTH_025", "Token invalid")
		return
	}

	s := f.scripted(r.Method, path)
	if s != nil && !s.After {
		s.write(w)
		return
	}
	rec := httptest.NewRecorder()
	f.route(rec, r.Method, path, r.URL.Query(), body)
	if s != nil {
		s.write(w)
		return
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// scripted takes the first scripted answer that matches.
func (f *Fake) scripted(method, path string) *Scripted {
	for _, s := range f.script {
		if s.Times > 0 && s.Method == method && strings.Contains(path, s.PathHas) {
			if s.Skip > 0 {
				s.Skip--
				continue
			}
			s.Times--
			return s
		}
	}
	return nil
}

func (s *Scripted) write(w http.ResponseWriter) {
	for k, v := range s.Header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(s.Status)
	_, _ = io.WriteString(w, s.Body)
}

func (f *Fake) route(w http.ResponseWriter, method, path string, q map[string][]string,
	body []byte) {
	seg := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case method == "GET" && len(seg) == 3 && seg[0] == "list" && seg[2] == "field":
		if seg[1] != f.list {
			fail(w, 404, "SUBCAT_016", "List not found")
			return
		}
		answer(w, map[string]any{"fields": f.fields})
	case method == "POST" && len(seg) == 3 && seg[0] == "list" && seg[2] == "task":
		f.create(w, body)
	case method == "GET" && len(seg) == 3 && seg[0] == "list" && seg[2] == "task":
		var out []any
		page, _ := strconv.Atoi(firstOf(q["page"]))
		if page == 0 {
			for _, id := range f.order {
				out = append(out, f.taskJSON(f.tasks[id]))
			}
		}
		answer(w, map[string]any{"tasks": out, "last_page": true})
	case len(seg) >= 2 && seg[0] == "task":
		t := f.tasks[seg[1]]
		if t == nil {
			fail(w, 404, "ITEM_013", "Task not found, deleted")
			return
		}
		f.taskOp(w, method, seg, t, body)
	default:
		fail(w, 404, "APP_001", "Route not found")
	}
}

func (f *Fake) create(w http.ResponseWriter, body []byte) {
	var in struct {
		Name         string `json:"name"`
		Status       string `json:"status"`
		CustomFields []struct {
			ID    string          `json:"id"`
			Value json.RawMessage `json:"value"`
		} `json:"custom_fields"`
	}
	if err := json.Unmarshal(body, &in); err != nil || in.Name == "" {
		fail(w, 400, "INPUT_005", "Task name invalid")
		return
	}
	t := &Task{Name: in.Name, Status: in.Status, Values: map[string]json.RawMessage{}}
	for _, cf := range in.CustomFields {
		if f.field(cf.ID) == nil {
			fail(w, 400, "FIELD_011", "Custom field not found")
			return
		}
		t.Values[cf.ID] = cf.Value
	}
	f.nextID++
	t.ID = fmt.Sprintf("86c2b7q%02d", f.nextID)
	f.tasks[t.ID] = t
	f.order = append(f.order, t.ID)
	answer(w, f.taskJSON(t))
}

func (f *Fake) taskOp(w http.ResponseWriter, method string, seg []string, t *Task,
	body []byte) {
	switch {
	case method == "GET" && len(seg) == 2:
		answer(w, f.taskJSON(t))
	case method == "PUT" && len(seg) == 2:
		var in struct{ Name, Status string }
		_ = json.Unmarshal(body, &in)
		t.Name = cmpOr(in.Name, t.Name)
		t.Status = cmpOr(in.Status, t.Status)
		answer(w, f.taskJSON(t))
	case method == "POST" && len(seg) == 4 && seg[2] == "field":
		var in struct {
			Value json.RawMessage `json:"value"`
		}
		if f.field(seg[3]) == nil {
			fail(w, 400, "FIELD_011", "Custom field not found")
			return
		}
		if err := json.Unmarshal(body, &in); err != nil || in.Value == nil {
			fail(w, 400, "FIELD_008", "Value must be provided")
			return
		}
		t.Values[seg[3]] = in.Value
		answer(w, map[string]any{})
	case method == "POST" && len(seg) == 3 && seg[2] == "comment":
		var in struct {
			Text string `json:"comment_text"`
		}
		_ = json.Unmarshal(body, &in)
		t.Comments = append(t.Comments, in.Text)
		answer(w, map[string]any{"id": len(t.Comments), "hist_id": "h", "date": 1741996800000})
	default:
		fail(w, 404, "APP_001", "Route not found")
	}
}

func (f *Fake) field(id string) map[string]any {
	for _, fd := range f.fields {
		if fd["id"] == id {
			return fd
		}
	}
	return nil
}

// taskJSON renders t as ClickUp does: a drop-down value reads back as the
// option's orderindex, not the option id that was sent.
func (f *Fake) taskJSON(t *Task) map[string]any {
	var cfs []any
	for _, fd := range f.fields {
		cf := map[string]any{}
		for k, v := range fd {
			cf[k] = v
		}
		if v, ok := t.Values[fd["id"].(string)]; ok {
			cf["value"] = v
			if fd["type"] == "drop_down" {
				cf["value"] = orderIndex(fd, v)
			}
		}
		cfs = append(cfs, cf)
	}
	return map[string]any{"id": t.ID, "name": t.Name, "status": map[string]any{"status": t.Status},
		"custom_fields": cfs, "list": map[string]any{"id": f.list}}
}

func orderIndex(fd map[string]any, v json.RawMessage) any {
	var id string
	_ = json.Unmarshal(v, &id)
	opts, _ := fd["type_config"].(map[string]any)["options"].([]any)
	for _, o := range opts {
		if om := o.(map[string]any); om["id"] == id {
			return om["orderindex"]
		}
	}
	return nil
}

func answer(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"err": msg, "ECODE": code})
}

func firstOf(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// ReadJSON decodes a fixture file.
func ReadJSON(t testing.TB, name string, v any) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(testkit.FixturesDir(t), name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// RawAnswer reads a fixture holding an HTTP answer (status line, headers,
// body) as a scripted answer.
func RawAnswer(t testing.TB, name string) *Scripted {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(testkit.FixturesDir(t), name))
	if err != nil {
		t.Fatal(err)
	}
	rd := bufio.NewReader(bytes.NewReader(raw))
	line, _ := rd.ReadString('\n')
	var status int
	if _, err := fmt.Sscanf(line, "HTTP/1.1 %d", &status); err != nil {
		t.Fatalf("%s: status line %q", name, line)
	}
	h, err := textproto.NewReader(rd).ReadMIMEHeader()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	rest, _ := io.ReadAll(rd)
	return &Scripted{Status: status, Header: http.Header(h), Body: strings.TrimSpace(string(rest)),
		Times: 1}
}
