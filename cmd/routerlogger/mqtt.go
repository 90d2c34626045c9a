package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/routerlogger/routerlogger/ingest/mqtt"
	"github.com/routerlogger/routerlogger/ingest/reading"
)

// mqttConfig is the MQTT settings of serve; the consumer runs when url is
// set.
type mqttConfig struct {
	url          *string
	prefix       *string
	clientID     *string
	shareGroup   *string
	username     *string
	password     *string
	batch        *int64
	linger       *time.Duration
	inFlight     *int64
	register     *bool
	keepAlive    *time.Duration
	maxReconnect *time.Duration
	retryMax     *time.Duration
	pollInterval *time.Duration
	pollTimeout  *time.Duration
	pollSerials  *string
}

// noShareGroup, as ROUTERLOGGER_MQTT_SHARE_GROUP, turns shared
// subscriptions off (an empty variable counts as unset).
const noShareGroup = "none"

// registerMQTT registers the MQTT settings of serve.
func registerMQTT(f *flags) *mqttConfig {
	c := f.cfg
	host, _ := os.Hostname()
	m := &mqttConfig{
		url: c.URL("mqtt-url", envs("MQTT_URL"), "",
			[]string{"tcp", "mqtt", "ssl", "tls", "mqtts", "ws", "wss"},
			"MQTT broker, such as tcp://127.0.0.1:1883; empty: no MQTT intake"),
		prefix: c.String("mqtt-topic-prefix", envs("MQTT_TOPIC_PREFIX"), mqtt.DefaultTopicPrefix,
			"routers publish to <prefix>/<serial>/telemetry"),
		clientID: c.String("mqtt-client-id", envs("MQTT_CLIENT_ID"), "routerlogger-"+host,
			"MQTT client id of the persistent session; unique per instance, stable across restarts"),
		shareGroup: c.String("mqtt-share-group", envs("MQTT_SHARE_GROUP"), "routerlogger",
			"shared subscription group ($share/<group>/...); empty or \"none\": no sharing"),
		username: c.String("mqtt-username", envs("MQTT_USERNAME"), "", "MQTT user name"),
		password: c.Secret("mqtt-password", envs("MQTT_PASSWORD"), "MQTT password"),
		batch: c.Int("mqtt-batch", envs("MQTT_BATCH"), mqtt.DefaultBatch, 1, 100_000,
			"MQTT messages per writer batch"),
		linger: c.Duration("mqtt-linger", envs("MQTT_LINGER"), mqtt.DefaultLinger, 0, 10*time.Second,
			"time an MQTT batch waits for more messages"),
		inFlight: c.Int("mqtt-inflight", envs("MQTT_INFLIGHT"), mqtt.DefaultInFlight, 1, 64,
			"MQTT batches taken and not yet acknowledged (parsed ahead, written in order)"),
		register: c.Bool("mqtt-register", envs("MQTT_REGISTER"), true,
			"MQTT readings for unknown serials register the router"),
		keepAlive: c.Duration("mqtt-keepalive", envs("MQTT_KEEPALIVE"), mqtt.DefaultKeepAlive,
			time.Second, time.Hour, "MQTT keep-alive"),
		maxReconnect: c.Duration("mqtt-max-reconnect", envs("MQTT_MAX_RECONNECT"),
			mqtt.DefaultMaxReconnectInterval, time.Second, time.Hour,
			"longest wait between MQTT reconnects"),
		retryMax: c.Duration("mqtt-retry-max", envs("MQTT_RETRY_MAX"), mqtt.DefaultRetryMax,
			10*time.Millisecond, time.Hour, "longest pause before retrying a batch the writer refused"),
		pollInterval: c.Duration("mqtt-poll-interval", envs("MQTT_POLL_INTERVAL"), 0, 0, 24*time.Hour,
			"ask routers for their status over RutOS Monitoring via MQTT this often (0: off)"),
		pollTimeout: c.Duration("mqtt-poll-timeout", envs("MQTT_POLL_TIMEOUT"), 10*time.Second,
			time.Second, time.Hour, "time a poll waits for answers"),
		pollSerials: c.String("mqtt-poll-serials", envs("MQTT_POLL_SERIALS"), "",
			"comma-separated serials to poll (default: every router in the database)"),
	}
	f.checks = append(f.checks, func() error { return m.check(f) })
	return m
}

// check rejects at start what the broker would only refuse later: a URL
// without a port, wildcards in the topic prefix, an empty client id.
func (m *mqttConfig) check(f *flags) error {
	if *m.url != "" {
		u, err := url.Parse(*m.url)
		if err == nil && u.Port() == "" {
			return f.settingError("mqtt-url", *m.url, "no port: write e.g. tcp://host:1883")
		}
	}
	p := *m.prefix
	if p == "" || strings.ContainsAny(p, "+#") || strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") {
		return f.settingError("mqtt-topic-prefix", p,
			"want a topic level path without the wildcards + and # and without a leading or trailing /")
	}
	if strings.TrimSpace(*m.clientID) == "" {
		return f.settingError("mqtt-client-id", *m.clientID, "empty: give each instance its own stable id")
	}
	return nil
}

// consumerConfig builds the consumer's configuration.
func (m *mqttConfig) consumerConfig(pool *pgxpool.Pool, parser *reading.Parser,
	log *slog.Logger, reg prometheus.Registerer) mqtt.Config {
	group := *m.shareGroup
	if group == noShareGroup {
		group = ""
	}
	cfg := mqtt.Config{
		Broker: *m.url, TopicPrefix: *m.prefix, ClientID: *m.clientID, ShareGroup: group,
		Username: *m.username, Password: *m.password,
		Batch: int(*m.batch), Linger: *m.linger, InFlight: int(*m.inFlight), Register: *m.register,
		KeepAlive: *m.keepAlive, MaxReconnectInterval: *m.maxReconnect, RetryMax: *m.retryMax,
		Parser: parser, Logger: log, Registerer: reg,
	}
	if *m.linger == 0 {
		cfg.Linger = -1 // no wait; zero would mean the consumer's default
	}
	if *m.pollInterval > 0 {
		cfg.Poll = &mqtt.PollConfig{Interval: *m.pollInterval, Timeout: *m.pollTimeout,
			Serials: pollSerials(pool, *m.pollSerials)}
	}
	return cfg
}

// pollSerials returns the configured serials, or every router's.
func pollSerials(pool *pgxpool.Pool, list string) func(context.Context) ([]string, error) {
	var fixed []string
	for _, s := range strings.Split(list, ",") {
		if s = strings.TrimSpace(s); s != "" {
			fixed = append(fixed, s)
		}
	}
	return func(ctx context.Context) ([]string, error) {
		if len(fixed) > 0 {
			return fixed, nil
		}
		rows, _ := pool.Query(ctx, "SELECT serial FROM routers ORDER BY serial")
		return pgx.CollectRows(rows, pgx.RowTo[string])
	}
}

// mqttIntake is serve's running MQTT consumer; a nil one is MQTT off.
type mqttIntake struct {
	consumer *mqtt.Consumer
}

// startMQTT starts the consumer when the broker is configured; it returns
// nil when it is not. The consumer connects in the background.
func startMQTT(ctx context.Context, m *mqttConfig, w mqtt.Writer, pool *pgxpool.Pool,
	parser *reading.Parser, log *slog.Logger, reg prometheus.Registerer) (*mqttIntake, error) {
	if *m.url == "" {
		return nil, nil
	}
	c, err := mqtt.New(w, m.consumerConfig(pool, parser, log, reg))
	if err != nil {
		return nil, fmt.Errorf("%w (see the ROUTERLOGGER_MQTT_ settings)", err)
	}
	if err := c.Start(ctx); err != nil {
		return nil, err
	}
	return &mqttIntake{consumer: c}, nil
}

// stop stops the consumer: no more messages, the taken ones written and
// acknowledged, disconnected. It is safe on a nil intake.
func (m *mqttIntake) stop(ctx context.Context) error {
	if m == nil {
		return nil
	}
	return m.consumer.Stop(ctx)
}

// stopWhenDone stops the intake as soon as ctx ends, giving it timeout,
// and reports the result on the returned channel; serve waits for it
// before draining the writer.
func (m *mqttIntake) stopWhenDone(ctx context.Context, timeout time.Duration) <-chan error {
	done := make(chan error, 1)
	go func() {
		<-ctx.Done()
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
		defer cancel()
		done <- m.stop(stopCtx)
	}()
	return done
}
