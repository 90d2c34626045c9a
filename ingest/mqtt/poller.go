package mqtt

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/routerlogger/routerlogger/ingest/reading"
	"github.com/routerlogger/routerlogger/ingest/writer"
)

// pollAnswers is the topic filter of the routers' answers,
// router/<serial>/<param>.
const pollAnswers = "router/+/+"

// DefaultPollParams are the parameters a [Poller] asks for: those the
// reading schema has a field for.
var DefaultPollParams = []string{"name", "uptime", "signal", "operator", "network", "wan"}

// pollFields maps a RutOS parameter to its place in the reading schema;
// any other parameter is passed under its own name, which the parser
// ignores unless the schema knows it. The values are plain strings (the
// parser takes numbers as strings). RutOS also answers temperature (in
// 0.1 degC) and connection ("4G (LTE)"), which the schema has no field for.
var pollFields = map[string][]string{
	"name":     {"name"},
	"uptime":   {"uptime"},       // seconds
	"signal":   {"cell", "rssi"}, // dBm
	"operator": {"operator"},
	"network":  {"network_type"}, // "LTE", ...
	"wan":      {"wan_ip"},
}

// PollConfig configures the [Poller] of a consumer.
type PollConfig struct {
	// Interval is the time between polls; required.
	Interval time.Duration
	// Timeout is how long a poll waits for the answers before storing what
	// came (default: the smaller of Interval and 10 s).
	Timeout time.Duration
	// Serials returns the routers to ask; required. The server passes the
	// configured list or the routers in the database.
	Serials func(ctx context.Context) ([]string, error)
	// Params are the parameters asked for (default [DefaultPollParams]).
	Params []string
}

func (p *PollConfig) check() error {
	if p.Interval <= 0 {
		return errors.New("mqtt: Poll.Interval must be positive")
	}
	if p.Serials == nil {
		return errors.New("mqtt: Poll.Serials is required")
	}
	if p.Timeout <= 0 || p.Timeout > p.Interval {
		p.Timeout = min(p.Interval, 10*time.Second)
	}
	if len(p.Params) == 0 {
		p.Params = DefaultPollParams
	}
	for _, prm := range p.Params {
		if prm == "" || strings.ContainsAny(prm, "/+#") {
			return errors.New("mqtt: Poll.Params: " + prm + " is not a parameter name")
		}
	}
	return nil
}

// Poller speaks the RutOS "Monitoring via MQTT" dialogue on the
// consumer's connection: every Interval it publishes each parameter name
// to get/<serial>/command for each known router, gathers the answers on
// router/<serial>/<param> and stores them as one reading without counters
// (timestamped when asked), through the same parser and writer. The
// answers are acknowledged once that reading is committed; when the write
// fails they are acknowledged anyway, since the next poll asks again. Run
// it on one instance: the answers are not a shared subscription.
type Poller struct {
	c       *Consumer
	cfg     PollConfig
	answers chan paho.Message
	pending map[string]*poll // by serial; only the run goroutine uses it
	cancel  context.CancelFunc
	done    chan struct{}
}

// poll is one router's open question.
type poll struct {
	at     time.Time
	values map[string]string
	msgs   []paho.Message
}

func newPoller(c *Consumer, cfg PollConfig) *Poller {
	return &Poller{c: c, cfg: cfg, answers: make(chan paho.Message, 1024),
		pending: map[string]*poll{}, done: make(chan struct{})}
}

func (p *Poller) start(ctx context.Context) {
	ctx, p.cancel = context.WithCancel(ctx)
	go p.run(ctx)
}

func (p *Poller) stop() {
	p.cancel()
	<-p.done
}

// take claims an answer for the poller; it never blocks the handler. An
// answer that finds the poller too busy is acknowledged and dropped.
func (p *Poller) take(m paho.Message) bool {
	if _, ok := answerOf(m.Topic()); !ok {
		return false
	}
	if _, isTelemetry := serialOf(p.c.cfg.TopicPrefix, m.Topic()); isTelemetry {
		return false
	}
	select {
	case p.answers <- m:
	default:
		p.c.log.Debug("mqtt poll answer dropped: poller busy", "topic", m.Topic())
		m.Ack()
	}
	return true
}

// answerOf splits router/<serial>/<param>.
func answerOf(topic string) ([2]string, bool) {
	parts := strings.Split(topic, "/")
	if len(parts) != 3 || parts[0] != "router" || parts[1] == "" || parts[2] == "" {
		return [2]string{}, false
	}
	return [2]string{parts[1], parts[2]}, true
}

func (p *Poller) run(ctx context.Context) {
	defer close(p.done)
	tick := time.NewTicker(p.cfg.Interval)
	defer tick.Stop()
	var deadline <-chan time.Time

	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			p.finishAll(ctx)
			if p.ask(ctx) {
				deadline = time.After(p.cfg.Timeout)
			}
		case m := <-p.answers:
			p.answer(ctx, m)
		case <-deadline:
			p.finishAll(ctx)
		}
	}
}

// ask publishes the questions to every known router; it reports whether
// it asked anything.
func (p *Poller) ask(ctx context.Context) bool {
	if !p.c.client.IsConnectionOpen() {
		p.c.log.Debug("mqtt poll skipped: not connected")
		return false
	}
	serials, err := p.cfg.Serials(ctx)
	if err != nil {
		p.c.log.Warn("mqtt poll skipped: list routers", "error", err)
		return false
	}

	now := p.c.cfg.Clock.Now().UTC().Truncate(time.Second)
	for _, s := range serials {
		if s == "" || strings.ContainsAny(s, "/+#") {
			continue
		}
		p.pending[s] = &poll{at: now, values: map[string]string{}}
		for _, prm := range p.cfg.Params {
			// QoS 0: a lost question is a skipped poll, asked again next time.
			p.c.client.Publish("get/"+s+"/command", 0, false, prm)
		}
	}
	p.c.log.Debug("mqtt poll asked", "routers", len(serials), "params", len(p.cfg.Params))
	return len(serials) > 0
}

// answer records one answer and stores the router's reading once every
// parameter has answered.
func (p *Poller) answer(ctx context.Context, m paho.Message) {
	sp, _ := answerOf(m.Topic())
	serial, param := sp[0], sp[1]
	q, ok := p.pending[serial]
	if !ok || !p.asked(param) {
		m.Ack() // a late or foreign answer
		return
	}
	q.values[param] = strings.TrimSpace(string(m.Payload()))
	q.msgs = append(q.msgs, m)
	if len(q.values) == len(p.cfg.Params) {
		p.finish(ctx, serial, q)
	}
}

func (p *Poller) asked(param string) bool {
	for _, prm := range p.cfg.Params {
		if prm == param {
			return true
		}
	}
	return false
}

// finishAll stores what the open polls gathered.
func (p *Poller) finishAll(ctx context.Context) {
	for serial, q := range p.pending {
		p.finish(ctx, serial, q)
	}
}

// finish stores one router's answers, if any, and acknowledges them.
func (p *Poller) finish(ctx context.Context, serial string, q *poll) {
	delete(p.pending, serial)
	if len(q.values) == 0 {
		p.c.log.Debug("mqtt poll: router did not answer", "serial", serial)
		return
	}
	defer func() {
		for _, m := range q.msgs {
			m.Ack()
		}
	}()

	b, err := p.batch(serial, q)
	if err != nil {
		p.c.log.Warn("mqtt poll answers not stored", "serial", serial, "error", err)
		return
	}
	wctx, cancel := context.WithTimeout(ctx, p.cfg.Interval)
	defer cancel()
	if _, err := p.c.w.Write(wctx, b); err != nil {
		p.c.log.Warn("mqtt poll answers not stored", "serial", serial, "error", err)
	}
}

// batch turns one router's answers into a writer batch of one reading (or
// one reject), through the reading parser.
func (p *Poller) batch(serial string, q *poll) (writer.Batch, error) {
	obj := map[string]any{"device_id": serial, "timestamp": q.at.Format(time.RFC3339)}
	for param, v := range q.values {
		path, ok := pollFields[param]
		if !ok {
			path = []string{param}
		}
		setPath(obj, path, v)
	}
	raw, err := json.Marshal(obj)
	if err != nil {
		return writer.Batch{}, err
	}

	b := writer.Batch{Source: reading.SourceMQTT, Register: p.c.cfg.Register,
		Received: p.c.cfg.Clock.Now()}
	r, ferr := p.c.cfg.Parser.Parse(raw)
	if ferr != nil {
		b.Rejects = []writer.Reject{{Serial: serial, Field: ferr.Field, Reason: ferr.Reason,
			Payload: raw}}
		return b, nil
	}
	b.Readings = []reading.Reading{r}
	return b, nil
}

// setPath sets obj[path[0]][path[1]]... = v, creating the objects between.
func setPath(obj map[string]any, path []string, v string) {
	for _, k := range path[:len(path)-1] {
		next, ok := obj[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			obj[k] = next
		}
		obj = next
	}
	obj[path[len(path)-1]] = v
}
