package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/routerlogger/routerlogger/dashboards"
	"github.com/routerlogger/routerlogger/internal/fleet"
	"github.com/routerlogger/routerlogger/sync/clickup"
	"github.com/routerlogger/routerlogger/sync/syncrun"
)

func init() {
	syncServices[clickup.JobName] = syncService{
		summary:  "one ClickUp task per router, kept up to date",
		register: registerClickUp,
	}
}

// fieldOff, as a field name, turns that field off.
const fieldOff = "-"

// routerDashboard is the dashboard the tasks link to.
const routerDashboard = "json/router-detail.json"

// clickupSettings are the ClickUp sync's settings.
type clickupSettings struct {
	url          *string
	token        *string
	list         *string
	every        *time.Duration
	offlineAfter *time.Duration
	grafanaURL   *string
	taskStatus   *string
	tags         *string
	lowWater     *int64
	fieldTTL     *time.Duration
	fields       map[string]*string
}

// registerClickUp registers the ClickUp settings.
func registerClickUp(f *flags) syncSettings {
	c := f.cfg
	s := &clickupSettings{
		url: c.URL("clickup-url", envs("CLICKUP_URL"), clickup.DefaultBaseURL,
			[]string{"http", "https"}, "ClickUp API v2 base URL"),
		token: c.Secret("clickup-token", envs("CLICKUP_TOKEN"),
			"ClickUp token: personal (pk_…) or OAuth access token; tokens do not expire"),
		list: c.String("clickup-list-id", envs("CLICKUP_LIST_ID"), "",
			"ClickUp list holding one task per router"),
		every: c.Duration("clickup-interval", envs("CLICKUP_INTERVAL"), 15*time.Minute,
			syncrun.MinInterval, 24*time.Hour, "how often the ClickUp sync runs"),
		offlineAfter: c.Duration("clickup-offline-after", envs("CLICKUP_OFFLINE_AFTER"),
			clickup.DefaultOfflineAfter, time.Minute, 7*24*time.Hour,
			"a router whose last reading is older is offline in ClickUp"),
		grafanaURL: c.URL("clickup-grafana-url", envs("GRAFANA_URL"), "", []string{"http", "https"},
			"Grafana base URL for the tasks' Router Dashboard link; empty: no link"),
		taskStatus: c.String("clickup-task-status", envs("CLICKUP_TASK_STATUS"), "",
			"ClickUp status given to the tasks, such as installed; empty: left alone"),
		tags: c.String("clickup-tags", envs("CLICKUP_TAGS"), "",
			"comma-separated tags set on created tasks"),
		lowWater: c.Int("clickup-rate-low-water", envs("CLICKUP_RATE_LOW_WATER"),
			clickup.DefaultLowWater, -1, 10_000,
			"wait for the rate-limit reset when this few requests remain (-1: never)"),
		fieldTTL: c.Duration("clickup-field-ttl", envs("CLICKUP_FIELD_TTL"), clickup.DefaultFieldTTL,
			time.Minute, 30*24*time.Hour, "how long discovered custom-field ids are trusted"),
		fields: map[string]*string{},
	}
	for key, name := range clickup.DefaultFieldNames {
		flag := "clickup-field-" + strings.ReplaceAll(key, "_", "-")
		s.fields[key] = c.String(flag, envs("CLICKUP_FIELD_"+strings.ToUpper(key)), name,
			fmt.Sprintf("name of the list's %q custom field (%q: not synced)", name, fieldOff))
	}
	return s
}

func (s *clickupSettings) configured() error {
	switch {
	case *s.token == "":
		return errors.New("ROUTERLOGGER_CLICKUP_TOKEN is not set")
	case strings.TrimSpace(*s.list) == "":
		return errors.New("ROUTERLOGGER_CLICKUP_LIST_ID is not set")
	}
	return nil
}

func (s *clickupSettings) interval() time.Duration { return *s.every }

func (s *clickupSettings) job(d syncDeps) (syncrun.Job, error) {
	client, err := clickup.NewClient(clickup.ClientConfig{
		BaseURL: *s.url, Token: *s.token, HTTP: d.http(clickup.JobName),
		LowWater: int(*s.lowWater), Logger: d.log, Registerer: d.reg,
	})
	if err != nil {
		return nil, err
	}
	uid, err := dashboardUID(routerDashboard)
	if err != nil {
		return nil, err
	}

	names := map[string]string{}
	for key, name := range s.fields {
		names[key] = strings.TrimSpace(*name)
		if names[key] == fieldOff {
			names[key] = ""
		}
	}
	var tags []string
	for _, t := range strings.Split(*s.tags, ",") {
		if t = strings.TrimSpace(t); t != "" {
			tags = append(tags, t)
		}
	}
	// A task's Property field (when the list has one) assigns its router
	// to that property, with history; a name of "-" turns it off.
	var props clickup.PropertyAssigner
	if names[clickup.FieldProperty] != "" {
		props = fleetAssigner{fleet.NewStore(d.pool)}
	}
	return clickup.New(d.pool, client, clickup.Config{
		ListID: strings.TrimSpace(*s.list), FieldNames: names, OfflineAfter: *s.offlineAfter,
		GrafanaURL: *s.grafanaURL, DashboardUID: uid, TaskStatus: *s.taskStatus, Tags: tags,
		FieldTTL: *s.fieldTTL, Property: props, Logger: d.log,
	})
}

// fleetAssigner assigns properties through internal/fleet.
type fleetAssigner struct{ s *fleet.Store }

func (a fleetAssigner) AssignProperty(ctx context.Context, serial, property string, at time.Time,
	source string) error {
	_, err := a.s.AssignProperty(ctx, serial, property, at, source)
	return err
}

// dashboardUID reads the uid of an embedded dashboard.
func dashboardUID(path string) (string, error) {
	raw, err := dashboards.Files.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read dashboard %s: %w", path, err)
	}
	var d struct {
		UID string `json:"uid"`
	}
	if err := json.Unmarshal(raw, &d); err != nil || d.UID == "" {
		return "", fmt.Errorf("dashboard %s has no uid", path)
	}
	return d.UID, nil
}
