package mqtt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/routerlogger/routerlogger/ingest/reading"
	"github.com/routerlogger/routerlogger/ingest/writer"
	"github.com/routerlogger/routerlogger/internal/clock"
)

// Writer is what the consumer needs of [writer.Writer].
type Writer interface {
	Write(ctx context.Context, b writer.Batch) (writer.Result, error)
}

// Defaults of [Config]; a zero field takes its default.
const (
	DefaultTopicPrefix          = "routerlogger"
	DefaultBatch                = 2000
	DefaultLinger               = 20 * time.Millisecond
	DefaultInFlight             = 2
	DefaultKeepAlive            = 30 * time.Second
	DefaultMaxReconnectInterval = 30 * time.Second
	DefaultRetryMin             = 100 * time.Millisecond
	DefaultRetryMax             = 10 * time.Second
)

// Config configures a [Consumer].
type Config struct {
	// Broker is the broker's URL: tcp://host:port (also mqtt://, ssl://,
	// tls://, mqtts://, ws://, wss://). Required.
	Broker string
	// TopicPrefix is the first part of <prefix>/<serial>/telemetry
	// (default "routerlogger"). It may hold slashes, not wildcards.
	TopicPrefix string
	// ClientID identifies the persistent session; it must be the same
	// across restarts of one instance and differ between instances.
	// Required.
	ClientID string
	// ShareGroup, when set, subscribes as $share/<group>/... so instances
	// of the same group split the messages; empty subscribes plainly.
	ShareGroup string
	// Username and Password authenticate to the broker; both optional.
	Username string
	Password string

	// Batch caps the messages of one writer batch (default 2000). Bigger
	// batches spread the writer's fixed cost per transaction thinner.
	Batch int
	// Linger is how long a batch waits for more messages after its first
	// (zero: the default 20 ms; negative: no wait).
	Linger time.Duration
	// InFlight caps the batches taken from the channel and not yet
	// acknowledged (default 2): they are parsed concurrently and written
	// one after the other, in order. With Batch it bounds the
	// unacknowledged messages this consumer holds, (InFlight+2)*Batch
	// counting the channel and the batch being gathered; the broker's
	// in-flight limit should be above that.
	InFlight int
	// Register lets MQTT readings create routers for unknown serials, as a
	// fleet token does over HTTP; without it they are rejected.
	Register bool

	// KeepAlive is the MQTT keep-alive (default 30 s).
	KeepAlive time.Duration
	// MaxReconnectInterval caps paho's reconnect back-off (default 30 s).
	MaxReconnectInterval time.Duration
	// RetryMin and RetryMax bound the back-off between attempts to write a
	// batch the writer refused (defaults 100 ms and 10 s).
	RetryMin time.Duration
	RetryMax time.Duration

	// Parser parses payloads; nil means a zero [reading.Parser].
	Parser *reading.Parser
	// Poll, when not nil, runs a [Poller] on the consumer's connection.
	Poll *PollConfig
	// Sleep waits d or until ctx ends; nil means a real timer. Tests
	// inject it to drive the back-off without waiting.
	Sleep func(ctx context.Context, d time.Duration) error
	// Clock stamps batches' received-at time; nil means the system clock.
	Clock  clock.Clock
	Logger *slog.Logger
	// Registerer receives the consumer's metrics; nil registers none.
	Registerer prometheus.Registerer
}

// brokerSchemes are the URL schemes paho dials.
var brokerSchemes = []string{"tcp", "mqtt", "ssl", "tls", "mqtts", "ws", "wss"}

// withDefaults returns c with defaults filled in, or an error naming the
// first field that is wrong.
func (c Config) withDefaults() (Config, error) {
	if err := checkBroker(c.Broker); err != nil {
		return c, err
	}
	if c.ClientID == "" {
		return c, errors.New("mqtt: ClientID is required: the persistent session is kept under it")
	}
	if c.TopicPrefix == "" {
		c.TopicPrefix = DefaultTopicPrefix
	}
	if err := checkLevels("TopicPrefix", c.TopicPrefix); err != nil {
		return c, err
	}
	if c.ShareGroup != "" && strings.ContainsAny(c.ShareGroup, "/+#") {
		return c, fmt.Errorf("mqtt: ShareGroup %q must not contain '/', '+' or '#'", c.ShareGroup)
	}
	if c.Poll != nil {
		if err := c.Poll.check(); err != nil {
			return c, err
		}
	}

	c.Batch = orDefault(c.Batch, DefaultBatch)
	c.InFlight = orDefault(c.InFlight, DefaultInFlight)
	if c.Linger == 0 {
		c.Linger = DefaultLinger
	}
	c.KeepAlive = orDefault(c.KeepAlive, DefaultKeepAlive)
	c.MaxReconnectInterval = orDefault(c.MaxReconnectInterval, DefaultMaxReconnectInterval)
	c.RetryMin = orDefault(c.RetryMin, DefaultRetryMin)
	c.RetryMax = max(orDefault(c.RetryMax, DefaultRetryMax), c.RetryMin)
	if c.Parser == nil {
		c.Parser = &reading.Parser{}
	}
	if c.Sleep == nil {
		c.Sleep = clock.Sleep
	}
	if c.Clock == nil {
		c.Clock = clock.Real{}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// orDefault returns v, or def when v is not positive.
func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// checkBroker checks that u is a broker URL paho can dial.
func checkBroker(u string) error {
	if u == "" {
		return errors.New("mqtt: Broker is required, such as tcp://127.0.0.1:1883")
	}
	p, err := url.Parse(u)
	if err != nil {
		return fmt.Errorf("mqtt: Broker %q: %w", redact(u), err)
	}
	ok := false
	for _, s := range brokerSchemes {
		ok = ok || p.Scheme == s
	}
	if !ok || p.Host == "" {
		return fmt.Errorf("mqtt: Broker %q: want scheme://host:port with scheme one of %s",
			redact(u), strings.Join(brokerSchemes, ", "))
	}
	return nil
}

// redact hides a password in a broker URL.
func redact(u string) string {
	if p, err := url.Parse(u); err == nil {
		return p.Redacted()
	}
	return "<unparsable URL>"
}

// checkLevels checks a topic fragment: no wildcards, no empty levels.
func checkLevels(field, s string) error {
	if strings.ContainsAny(s, "+#") {
		return fmt.Errorf("mqtt: %s %q must not contain the wildcards '+' or '#'", field, s)
	}
	for _, level := range strings.Split(s, "/") {
		if level == "" {
			return fmt.Errorf("mqtt: %s %q has an empty topic level", field, s)
		}
	}
	return nil
}

// TelemetryTopic returns the topic a router publishes its readings to.
func TelemetryTopic(prefix, serial string) string {
	return prefix + "/" + serial + "/telemetry"
}

// subscription returns the topic filter the consumer subscribes to.
func (c *Config) subscription() string {
	f := c.TopicPrefix + "/+/telemetry"
	if c.ShareGroup != "" {
		return "$share/" + c.ShareGroup + "/" + f
	}
	return f
}

// serialOf returns the serial of a telemetry topic under prefix, or false
// when topic is not one.
func serialOf(prefix, topic string) (string, bool) {
	rest, ok := strings.CutPrefix(topic, prefix+"/")
	if !ok {
		return "", false
	}
	serial, ok := strings.CutSuffix(rest, "/telemetry")
	if !ok || serial == "" || strings.Contains(serial, "/") {
		return "", false
	}
	return serial, true
}
