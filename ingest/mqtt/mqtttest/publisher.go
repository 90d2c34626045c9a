package mqtttest

import (
	"fmt"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// Message is one message to publish.
type Message struct {
	Topic   string
	Payload []byte
}

// Publisher publishes with QoS 1 from a persistent session (fixed client
// id, clean session off) with auto reconnect: a message not yet
// acknowledged by the broker is kept and sent again after a reconnect, so
// one whose token completed without error is the broker's to deliver.
type Publisher struct {
	Client paho.Client
	window chan struct{}
}

// NewPublisher connects a publisher to broker, waiting at most 30 s, and
// disconnects it when the test ends. window caps the messages in flight
// (not yet acknowledged by the broker); 0 means 1000.
func NewPublisher(t testing.TB, broker, clientID string, window int) *Publisher {
	t.Helper()

	if window <= 0 {
		window = 1000
	}
	o := paho.NewClientOptions().AddBroker(broker).SetClientID(clientID).
		SetProtocolVersion(4).SetCleanSession(false).SetAutoReconnect(true).
		SetConnectRetry(true).SetConnectRetryInterval(200 * time.Millisecond).
		SetMaxReconnectInterval(time.Second).SetKeepAlive(30 * time.Second)
	c := paho.NewClient(o)
	tok := c.Connect()
	if !tok.WaitTimeout(30*time.Second) || tok.Error() != nil {
		t.Fatalf("mqtttest: publisher %s connect to %s: %v", clientID, broker, tok.Error())
	}
	t.Cleanup(func() {
		c.Disconnect(250)
		ForgetSession(t, broker, clientID)
	})
	return &Publisher{Client: c, window: make(chan struct{}, window)}
}

// ForgetSession makes the broker drop the persistent session of clientID
// (a clean-session connection replaces it), so that tests leave no
// sessions behind on the system broker.
func ForgetSession(t testing.TB, broker, clientID string) {
	t.Helper()

	o := paho.NewClientOptions().AddBroker(broker).SetClientID(clientID).SetCleanSession(true).
		SetConnectTimeout(5 * time.Second)
	c := paho.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Logf("mqtttest: forget session %s: %v", clientID, tok.Error())
		return
	}
	c.Disconnect(100)
}

// Publish publishes msgs in order with QoS 1, keeping at most the window
// in flight, and waits until the broker acknowledged every one. A message
// whose publication failed (the connection dropped while it was written)
// is published again, as a router does: the broker may then hold it twice,
// which the consumer stores once. It returns an error when a message is
// still not acknowledged at the deadline.
func (p *Publisher) Publish(msgs []Message, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	errs := make(chan error, len(msgs))
	for _, m := range msgs {
		p.window <- struct{}{}
		tok := p.Client.Publish(m.Topic, 1, false, m.Payload)
		go func() {
			defer func() { <-p.window }()
			errs <- p.confirm(m, tok, deadline)
		}()
	}
	var first error
	for range msgs {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// confirm waits for tok, publishing m again after a failure, until the
// deadline.
func (p *Publisher) confirm(m Message, tok paho.Token, deadline time.Time) error {
	for {
		if !tok.WaitTimeout(time.Until(deadline)) {
			return fmt.Errorf("mqtttest: publish to %s not acknowledged by the deadline", m.Topic)
		}
		if tok.Error() == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("mqtttest: publish to %s: %w", m.Topic, tok.Error())
		}
		time.Sleep(50 * time.Millisecond) // paho is reconnecting
		tok = p.Client.Publish(m.Topic, 1, false, m.Payload)
	}
}
