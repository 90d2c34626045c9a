package writer

import (
	"errors"
	"time"

	"github.com/routerlogger/routerlogger/ingest/reading"
)

// ErrQueueFull is returned by [Writer.Write] when the bounded queue has no
// room; front doors answer 503 with Retry-After (HTTP) or stop reading
// (MQTT) so the sender retries instead of losing data.
var ErrQueueFull = errors.New("writer: queue full")

// ErrUnavailable wraps every database failure that made a batch not commit.
// Nothing of the batch is stored; the caller must not acknowledge it.
var ErrUnavailable = errors.New("writer: database unavailable")

// ErrClosed is returned by [Writer.Write] after [Writer.Close].
var ErrClosed = errors.New("writer: closed")

// Batch is one unit of work from a front door: the readings it accepted
// and the inputs it rejected. Both are committed in one transaction.
type Batch struct {
	Source   reading.Source
	Readings []reading.Reading
	Rejects  []Reject
	// Received is when the front door received the batch; zero means now.
	Received time.Time
	// AllowRouter, when set, limits the batch to one serial (a per-router
	// token); readings for any other serial become rejects.
	AllowRouter string
	// Register permits creating routers for unknown serials (a fleet token
	// or an import). Without it, readings for unknown serials are rejected.
	Register bool
}

// Reject is one input that could not be accepted, kept with its reason.
type Reject struct {
	// Index is the position in the request, or the row of an import. For a
	// reject the writer adds, it is the position in Batch.Readings.
	Index   int
	Serial  string // the router's serial when known
	Field   string // the offending field, dotted path; "" for the whole input
	Reason  string
	Payload []byte // raw input; capped when stored
}

// Result says what a committed batch did.
type Result struct {
	Accepted   int
	Duplicates int
	// Rejected are the rejects of the batch, including those the writer
	// added (unknown serial, token for another router).
	Rejected []Reject
	// TxAdded and RxAdded are the usage bytes the batch added to the
	// rollups, revisions of earlier samples included.
	TxAdded int64
	RxAdded int64
	// Events counts the batch's new samples by event (reboot, glitch, gap,
	// late, ...) as flagged when they were stored.
	Events map[string]int
}
