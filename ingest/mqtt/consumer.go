package mqtt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// connCheck is how often a handler blocked on a full channel checks that
// the connection still stands: paho cannot reconnect while a handler runs,
// so a handler must give up its message when the connection is gone.
const connCheck = 100 * time.Millisecond

// disconnectQuiesce is how long Stop lets paho send the last PUBACKs.
const disconnectQuiesce = 250 // milliseconds

// Consumer reads telemetry from an MQTT broker into the writer. Create it
// with [New], then call [Consumer.Start] and, at the end, [Consumer.Stop].
type Consumer struct {
	cfg     Config
	w       Writer
	log     *slog.Logger
	metrics *metrics
	client  paho.Client
	poller  *Poller

	in       chan inbound  // paho handler -> batching loop
	slots    chan struct{} // one token per batch being written
	stopping chan struct{} // closed by Stop: take no more messages
	runCtx   context.Context
	abort    context.CancelFunc // gives up writes still retrying
	loopDone chan struct{}
	flushes  sync.WaitGroup

	started   atomic.Bool
	stopOnce  sync.Once
	connected atomic.Bool
	failing   atomic.Bool // a connect failure was logged since the last state change
}

// inbound is one telemetry message and the serial its topic names.
type inbound struct {
	msg    paho.Message
	serial string
}

// New returns a consumer writing to w. It checks cfg and does no I/O.
func New(w Writer, cfg Config) (*Consumer, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &Consumer{
		cfg:      cfg,
		w:        w,
		log:      cfg.Logger.With("component", "mqtt"),
		metrics:  newMetrics(cfg.Registerer),
		in:       make(chan inbound, cfg.Batch),
		slots:    make(chan struct{}, cfg.InFlight),
		stopping: make(chan struct{}),
		loopDone: make(chan struct{}),
	}
	if cfg.Poll != nil {
		c.poller = newPoller(c, *cfg.Poll)
	}
	c.client = paho.NewClient(c.options())
	return c, nil
}

// options are the paho settings: QoS 1 with a persistent session, manual
// acknowledgement, ordered delivery to one handler, auto reconnect. While
// the handler blocks (consumption paused), paho reads no PINGRESP either,
// so a pause longer than KeepAlive plus the ping timeout ends in a
// reconnect; the handler then lets its message go and the broker sends the
// unacknowledged messages again on the new connection.
func (c *Consumer) options() *paho.ClientOptions {
	o := paho.NewClientOptions().
		AddBroker(c.cfg.Broker).
		SetClientID(c.cfg.ClientID).
		SetUsername(c.cfg.Username).
		SetPassword(c.cfg.Password).
		SetProtocolVersion(4).
		SetCleanSession(false).
		SetAutoAckDisabled(true).
		SetOrderMatters(true).
		SetKeepAlive(c.cfg.KeepAlive).
		SetPingTimeout(min(10*time.Second, c.cfg.KeepAlive)).
		SetAutoReconnect(true).
		SetMaxReconnectInterval(c.cfg.MaxReconnectInterval).
		SetConnectRetry(true).
		SetConnectRetryInterval(min(5*time.Second, c.cfg.MaxReconnectInterval)).
		SetConnectTimeout(10 * time.Second).
		SetWriteTimeout(10 * time.Second).
		SetDefaultPublishHandler(c.handle).
		SetOnConnectHandler(c.subscribe).
		SetConnectionNotificationHandler(c.notified)
	return o
}

// Start starts the batching loop (and the poller) and connects in the
// background; it returns at once. paho retries the first connection and
// reconnects with back-off; the consumer runs until [Consumer.Stop].
func (c *Consumer) Start(ctx context.Context) error {
	if !c.started.CompareAndSwap(false, true) {
		return errors.New("mqtt: consumer already started")
	}
	// Writes outlive ctx: Stop drains them, or gives up at its deadline.
	c.runCtx, c.abort = context.WithCancel(context.WithoutCancel(ctx))

	go c.loop()
	if c.poller != nil {
		c.poller.start(c.runCtx)
	}
	c.client.Connect()
	c.log.Info("mqtt consumer started", "broker", redact(c.cfg.Broker),
		"client_id", c.cfg.ClientID, "subscription", c.cfg.subscription(),
		"batch", c.cfg.Batch, "in_flight", c.cfg.InFlight)
	return nil
}

// Stop stops taking messages, writes and acknowledges those already taken,
// and disconnects. Messages it did not acknowledge stay with the broker for
// the session. When ctx ends first, writes still retrying are given up
// (their messages unacknowledged) and Stop returns ctx's error. It is safe
// to call more than once, and before Start.
func (c *Consumer) Stop(ctx context.Context) error {
	if !c.started.Load() {
		return nil
	}
	var err error
	c.stopOnce.Do(func() {
		close(c.stopping)
		select {
		case <-c.loopDone:
		case <-ctx.Done():
			c.abort()
			<-c.loopDone
			err = fmt.Errorf("mqtt: drain: %w", ctx.Err())
		}
		if c.poller != nil {
			c.poller.stop()
		}
		c.abort()
		c.client.Disconnect(disconnectQuiesce)
		c.setConnected(false)
		c.log.Info("mqtt consumer stopped")
	})
	return err
}

// Connected reports whether the consumer is connected to the broker and
// its subscription acknowledged.
func (c *Consumer) Connected() bool { return c.connected.Load() }

// handle is paho's handler for every message. It runs on paho's one
// dispatch goroutine, so blocking here stops paho reading.
func (c *Consumer) handle(_ paho.Client, m paho.Message) {
	if c.poller != nil && c.poller.take(m) {
		return
	}
	serial, ok := serialOf(c.cfg.TopicPrefix, m.Topic())
	if !ok {
		c.log.Debug("mqtt message on a topic that is not telemetry", "topic", m.Topic())
		m.Ack()
		c.metrics.messages.WithLabelValues(OutcomeIgnored).Inc()
		return
	}
	c.enqueue(inbound{msg: m, serial: serial})
}

// enqueue hands a message to the batching loop, blocking while the channel
// is full. It lets the message go unacknowledged when the consumer stops
// or the connection drops meanwhile.
func (c *Consumer) enqueue(in inbound) {
	select {
	case <-c.stopping:
		c.unacked(1)
		return
	case c.in <- in:
		return
	default:
	}

	tick := time.NewTicker(connCheck)
	defer tick.Stop()
	for {
		select {
		case c.in <- in:
			return
		case <-c.stopping:
			c.unacked(1)
			return
		case <-tick.C:
			if !c.client.IsConnectionOpen() {
				c.unacked(1)
				return
			}
		}
	}
}

// unacked counts messages let go without acknowledgement.
func (c *Consumer) unacked(n int) {
	c.metrics.messages.WithLabelValues(OutcomeUnacked).Add(float64(n))
}

// subscribe (re)subscribes on every connection. With a persistent session
// the broker keeps the subscription anyway; subscribing again makes a new
// session or a changed filter take effect.
func (c *Consumer) subscribe(cl paho.Client) {
	filters := map[string]byte{c.cfg.subscription(): 1}
	if c.poller != nil {
		filters[pollAnswers] = 1
	}
	tok := cl.SubscribeMultiple(filters, nil)
	if !tok.WaitTimeout(30 * time.Second) {
		c.log.Error("mqtt subscribe timed out", "filters", keys(filters))
		return
	}
	if err := tok.Error(); err != nil {
		c.log.Error("mqtt subscribe failed", "filters", keys(filters), "error", err)
		return
	}
	if st, ok := tok.(*paho.SubscribeToken); ok {
		for f, qos := range st.Result() {
			if qos > 2 {
				c.log.Error("mqtt broker refused the subscription", "filter", f)
				return
			}
		}
	}
	c.changed(cl.IsConnectionOpen(), nil)
}

func keys(m map[string]byte) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// notified logs lost connections and failed attempts. A connection counts
// as up once its subscription is acknowledged ([Consumer.subscribe]); paho
// reports a loss before it starts to reconnect.
func (c *Consumer) notified(_ paho.Client, n paho.ConnectionNotification) {
	switch n := n.(type) {
	case paho.ConnectionNotificationLost:
		c.changed(false, n.Reason)
	case paho.ConnectionNotificationFailed:
		if c.failing.CompareAndSwap(false, true) {
			c.log.Warn("mqtt connect failed, retrying", "broker", redact(c.cfg.Broker),
				"error", n.Reason)
			return
		}
		c.log.Debug("mqtt connect failed, retrying", "error", n.Reason)
	}
}

// changed records the connection state and logs it when it changed.
func (c *Consumer) changed(up bool, reason error) {
	if c.connected.Swap(up) == up {
		return
	}
	c.failing.Store(false)
	c.setConnected(up)
	if up {
		c.log.Info("mqtt connected", "broker", redact(c.cfg.Broker), "client_id", c.cfg.ClientID)
		return
	}
	c.log.Info("mqtt connection lost, reconnecting", "error", reason)
}

func (c *Consumer) setConnected(up bool) {
	c.connected.Store(up)
	v := 0.0
	if up {
		v = 1
	}
	c.metrics.connected.Set(v)
}
