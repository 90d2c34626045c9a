package mqtt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/routerlogger/routerlogger/ingest/reading"
	"github.com/routerlogger/routerlogger/ingest/writer"
)

// loop gathers messages into batches and hands each to a flush goroutine,
// at most InFlight at once. After Stop it drains the channel, then waits
// for the flushes.
func (c *Consumer) loop() {
	defer close(c.loopDone)

	prev := closed()
	for {
		batch, more := c.gather()
		if len(batch) > 0 {
			prev = c.dispatch(batch, prev)
		}
		if !more {
			break
		}
	}
	c.flushes.Wait()
}

// closed returns a closed channel: the "previous batch" of the first one.
func closed() <-chan struct{} {
	ch := make(chan struct{})
	close(ch)
	return ch
}

// gather waits for a first message, then takes more until the batch is
// full or Linger has passed. Once stopping, it takes only what is queued
// and reports more=false when nothing is left.
func (c *Consumer) gather() (batch []inbound, more bool) {
	var first inbound
	select {
	case first = <-c.in:
	case <-c.stopping:
		batch = c.drain()
		return batch, len(batch) > 0
	}

	batch = make([]inbound, 1, c.cfg.Batch)
	batch[0] = first
	linger := time.NewTimer(c.cfg.Linger)
	defer linger.Stop()
	for len(batch) < c.cfg.Batch {
		select {
		case in := <-c.in:
			batch = append(batch, in)
		case <-linger.C:
			return batch, true
		case <-c.stopping:
			return batch, true
		}
	}
	return batch, true
}

// drain takes up to a batch of queued messages without waiting.
func (c *Consumer) drain() []inbound {
	var batch []inbound
	for len(batch) < c.cfg.Batch {
		select {
		case in := <-c.in:
			batch = append(batch, in)
		default:
			return batch
		}
	}
	return batch
}

// dispatch waits for a free slot and flushes batch on its own goroutine.
// It returns a channel closed when the batch is written and acknowledged
// (or given up), which the next batch waits for before writing: batches
// are parsed concurrently but written and acknowledged in the order the
// messages came.
func (c *Consumer) dispatch(batch []inbound, prev <-chan struct{}) <-chan struct{} {
	c.slots <- struct{}{}
	done := make(chan struct{})
	c.flushes.Add(1)
	go func() {
		defer c.flushes.Done()
		defer func() { <-c.slots }()
		defer close(done)
		c.flush(batch, prev)
	}()
	return done
}

// flush parses one batch, waits for the previous batch, writes this one,
// retrying until it commits, and acknowledges its messages only then.
//
// Writing in order matters for cost, not correctness: a batch committed
// before an earlier one would make the earlier one's readings late, which
// the writer stores correctly but through its slow path (an insert and a
// recomputation per reading). PUBACKs then also leave in arrival order,
// as MQTT 3.1.1 asks.
func (c *Consumer) flush(batch []inbound, prev <-chan struct{}) {
	b, rejected := c.build(batch)
	c.metrics.batchSize.Observe(float64(len(batch)))
	<-prev
	if !c.write(c.runCtx, b) {
		c.unacked(len(batch))
		return
	}

	for _, in := range batch {
		in.msg.Ack()
	}
	c.metrics.messages.WithLabelValues(OutcomeStored).Add(float64(len(batch) - rejected))
	c.metrics.messages.WithLabelValues(OutcomeRejected).Add(float64(rejected))
}

// write hands b to the writer until it commits. A refusal (database down,
// queue full) pauses this batch with capped exponential back-off; nothing
// is acknowledged meanwhile. It returns false when the consumer gave up
// (ctx ended: Stop's deadline passed; or the writer closed).
func (c *Consumer) write(ctx context.Context, b writer.Batch) bool {
	delay := c.cfg.RetryMin
	for attempt := 1; ; attempt++ {
		_, err := c.w.Write(ctx, b)
		if err == nil {
			if attempt > 1 {
				c.log.Info("mqtt batch stored after retries", "attempts", attempt)
			}
			return true
		}
		if ctx.Err() != nil || errors.Is(err, writer.ErrClosed) {
			return false
		}

		c.metrics.retries.Inc()
		if attempt == 1 {
			c.log.Warn("mqtt batch not stored, pausing consumption", "error", err,
				"readings", len(b.Readings), "retry_in", delay)
		} else {
			c.log.Debug("mqtt batch still not stored", "error", err, "attempt", attempt)
		}
		if c.cfg.Sleep(ctx, delay) != nil {
			return false
		}
		delay = min(2*delay, c.cfg.RetryMax)
	}
}

// build parses the messages of a batch into one writer batch. It returns
// the number of messages of which nothing was usable.
func (c *Consumer) build(batch []inbound) (writer.Batch, int) {
	b := writer.Batch{Source: reading.SourceMQTT, Register: c.cfg.Register,
		Received: c.cfg.Clock.Now(), Readings: make([]reading.Reading, 0, len(batch))}
	rejected := 0
	for _, in := range batch {
		before := len(b.Readings)
		c.parse(&b, in)
		if len(b.Readings) == before {
			rejected++
		}
	}
	return b, rejected
}

// parse adds the readings of one message to b, and a reject for each part
// that is not usable.
func (c *Consumer) parse(b *writer.Batch, in inbound) {
	payload := in.msg.Payload()
	items, err := c.cfg.Parser.ParseBody("application/json", payload)
	if err != nil {
		b.Rejects = append(b.Rejects, writer.Reject{Serial: in.serial, Reason: err.Error(),
			Payload: payload})
		return
	}

	for _, it := range items {
		if it.Err != nil && missingDeviceID(it.Err) {
			it.Reading, it.Err = c.cfg.Parser.Parse(withDeviceID(it.Raw, in.serial))
		}
		if it.Err != nil {
			b.Rejects = append(b.Rejects, writer.Reject{Index: it.Index, Serial: in.serial,
				Field: it.Err.Field, Reason: it.Err.Reason, Payload: it.Raw})
			continue
		}
		if it.Reading.DeviceID != in.serial {
			reason := fmt.Sprintf("device_id %q does not match the serial %q of topic %s",
				it.Reading.DeviceID, in.serial, in.msg.Topic())
			b.Rejects = append(b.Rejects, writer.Reject{Index: it.Index, Serial: in.serial,
				Field: "device_id", Reason: reason, Payload: it.Raw})
			continue
		}
		b.Readings = append(b.Readings, it.Reading)
	}
}

// missingDeviceID reports whether a reading was refused only for lacking
// device_id, which the topic then supplies.
func missingDeviceID(e *reading.FieldError) bool {
	return e.Field == "device_id" && e.Reason == "required"
}

// withDeviceID returns the JSON object raw with device_id set to serial.
func withDeviceID(raw []byte, serial string) []byte {
	body := bytes.TrimSpace(raw)
	if len(body) == 0 || body[0] != '{' {
		return raw
	}
	rest := bytes.TrimLeft(body[1:], " \t\r\n")
	quoted, _ := json.Marshal(serial) // a string always marshals
	field := append([]byte(`{"device_id":`), quoted...)
	if len(rest) > 0 && rest[0] != '}' {
		field = append(field, ',')
	}
	return append(field, rest...)
}
