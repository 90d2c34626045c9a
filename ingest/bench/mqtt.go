package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/routerlogger/routerlogger/ingest/mqtt"
	"github.com/routerlogger/routerlogger/ingest/mqtt/mosquitto"
	"github.com/routerlogger/routerlogger/ingest/reading"
	"github.com/routerlogger/routerlogger/ingest/writer"
)

// publishWindow caps each publisher's messages not yet acknowledged by the
// broker.
const publishWindow = 1000

// mqttTimeout bounds the wait for every published message to be stored.
const mqttTimeout = 5 * time.Minute

// mqttScenario runs the MQTT consumer and the writer, publishes every
// reading as one QoS 1 message from Publishers clients, and measures until
// the last one is committed. Latency is from publish to commit.
func mqttScenario(ctx context.Context, pool *pgxpool.Pool, rs []reading.Reading,
	opt Options) (Scenario, error) {
	url, stopBroker, err := benchBroker(ctx, opt)
	if err != nil {
		return Scenario{}, err
	}
	defer stopBroker()
	stats := newWriterStats()
	w, stopWriter, err := startWriter(ctx, pool, opt, stats.reg)
	if err != nil {
		return Scenario{}, err
	}
	defer stopWriter()

	run := randomID()
	tr := newTracker(rs)
	c, err := startConsumer(ctx, url, run, &trackingWriter{w: w, tr: tr}, opt)
	if err != nil {
		return Scenario{}, err
	}
	defer c.Stop(context.WithoutCancel(ctx))

	start := time.Now()
	if err := publishAll(ctx, url, run, rs, tr, opt.Publishers); err != nil {
		return Scenario{}, err
	}
	select {
	case <-tr.done:
	case <-time.After(mqttTimeout):
		return Scenario{}, fmt.Errorf("%d of %d messages stored after %s", tr.stored(), len(rs), mqttTimeout)
	case <-ctx.Done():
		return Scenario{}, ctx.Err()
	}
	elapsed := tr.last.Sub(start)

	if err := checkStored(ctx, pool, len(rs)); err != nil {
		return Scenario{}, err
	}
	return stats.fill(figure(ScenarioMQTT, len(rs), elapsed, tr.lat)), nil
}

// benchBroker returns the broker to use: MQTTURL, or a private Mosquitto
// configured from MosquittoConf, stopped by the returned function.
func benchBroker(ctx context.Context, opt Options) (string, func(), error) {
	if opt.MQTTURL != "" {
		return opt.MQTTURL, func() {}, nil
	}
	if opt.MosquittoConf == "" {
		return "", nil, errors.New("no broker: set MQTTURL or MosquittoConf (deploy/mosquitto.conf)")
	}
	b, err := mosquitto.New(mosquitto.Options{Bin: opt.MosquittoBin, Conf: opt.MosquittoConf})
	if err != nil {
		return "", nil, err
	}
	if err := b.Start(ctx); err != nil {
		_ = b.Close()
		return "", nil, err
	}
	return b.URL, func() { _ = b.Close() }, nil
}

func randomID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// startConsumer starts the consumer and waits until it is subscribed.
func startConsumer(ctx context.Context, url, run string, w mqtt.Writer,
	opt Options) (*mqtt.Consumer, error) {
	c, err := mqtt.New(w, mqtt.Config{Broker: url, TopicPrefix: "bench-" + run,
		ClientID: "routerlogger-bench-" + run, Register: true, Logger: opt.Log,
		Batch: opt.MQTTBatch, InFlight: opt.MQTTInFlight})
	if err != nil {
		return nil, err
	}
	if err := c.Start(ctx); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(30 * time.Second)
	for !c.Connected() {
		if time.Now().After(deadline) {
			_ = c.Stop(ctx)
			return nil, fmt.Errorf("consumer not connected to %s within 30s", url)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return c, nil
}

// publishAll publishes every reading from n publishers, each owning a
// share of the routers and publishing it in time order, and returns once
// the broker acknowledged all.
func publishAll(ctx context.Context, url, run string, rs []reading.Reading, tr *tracker, n int) error {
	shares := shareByRouter(rs, n)
	msgs := make([][][]byte, n)
	for k, share := range shares {
		for _, i := range share {
			b, err := json.Marshal(wire(&rs[i]))
			if err != nil {
				return err
			}
			msgs[k] = append(msgs[k], b)
		}
	}

	errs := make([]error, n)
	var wg sync.WaitGroup
	for k := range shares {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[k] = publish(ctx, url, fmt.Sprintf("routerlogger-bench-%s-pub%d", run, k),
				"bench-"+run, rs, shares[k], msgs[k], tr)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// publish sends one publisher's share with QoS 1, keeping at most
// publishWindow messages unacknowledged.
func publish(ctx context.Context, url, id, prefix string, rs []reading.Reading, share []int,
	msgs [][]byte, tr *tracker) error {
	o := paho.NewClientOptions().AddBroker(url).SetClientID(id).SetProtocolVersion(4).
		SetCleanSession(true).SetKeepAlive(60 * time.Second)
	c := paho.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(30*time.Second) || tok.Error() != nil {
		return fmt.Errorf("publisher %s connect: %v", id, tok.Error())
	}
	defer c.Disconnect(250)

	queue := make([]paho.Token, 0, publishWindow)
	wait := func(tok paho.Token) error {
		if !tok.WaitTimeout(time.Minute) {
			return fmt.Errorf("publisher %s: not acknowledged within a minute", id)
		}
		return tok.Error()
	}
	for n, i := range share {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if len(queue) == publishWindow {
			if err := wait(queue[0]); err != nil {
				return err
			}
			queue = queue[1:]
		}
		tr.published(i)
		queue = append(queue, c.Publish(mqtt.TelemetryTopic(prefix, rs[i].DeviceID), 1, false, msgs[n]))
	}
	for _, tok := range queue {
		if err := wait(tok); err != nil {
			return err
		}
	}
	return nil
}

// readingKey identifies a reading: router and time.
type readingKey struct {
	serial string
	micros int64
}

func keyOf(r *reading.Reading) readingKey {
	return readingKey{r.DeviceID, r.Time.UnixMicro()}
}

// tracker records when each reading was published and when it was first
// committed.
type tracker struct {
	mu    sync.Mutex
	index map[readingKey]int
	pub   []time.Time
	seen  []bool
	n     int
	lat   []time.Duration
	last  time.Time
	done  chan struct{}
}

func newTracker(rs []reading.Reading) *tracker {
	t := &tracker{index: make(map[readingKey]int, len(rs)), pub: make([]time.Time, len(rs)),
		seen: make([]bool, len(rs)), lat: make([]time.Duration, 0, len(rs)), done: make(chan struct{})}
	for i := range rs {
		t.index[keyOf(&rs[i])] = i
	}
	return t
}

// published records that reading i of the data set was just published.
func (t *tracker) published(i int) {
	now := time.Now()
	t.mu.Lock()
	t.pub[i] = now
	t.mu.Unlock()
}

func (t *tracker) committed(rs []reading.Reading) {
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := range rs {
		k, ok := t.index[keyOf(&rs[i])]
		if !ok || t.seen[k] {
			continue
		}
		t.seen[k] = true
		t.lat = append(t.lat, now.Sub(t.pub[k]))
		t.n++
		t.last = now
		if t.n == len(t.seen) {
			close(t.done)
		}
	}
}

func (t *tracker) stored() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.n
}

// trackingWriter tells the tracker what each committed batch held.
type trackingWriter struct {
	w  *writer.Writer
	tr *tracker
}

// Write writes b and, once committed, reports its readings to the tracker.
func (w *trackingWriter) Write(ctx context.Context, b writer.Batch) (writer.Result, error) {
	res, err := w.w.Write(ctx, b)
	if err == nil {
		w.tr.committed(b.Readings)
	}
	return res, err
}
