package importer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/routerlogger/routerlogger/ingest/reading"
	"github.com/routerlogger/routerlogger/ingest/writer"
)

// Backoff while the writer's queue is full: the import is a bulk client
// and waits its turn rather than failing.
const (
	queueFullBackoff    = 50 * time.Millisecond
	queueFullMaxBackoff = 2 * time.Second
)

// batcher collects one file's readings and rejects into writer batches
// and keeps the counts of the committed ones.
type batcher struct {
	sink Sink
	size int
	file *FileSummary
	sum  *Summary

	batch writer.Batch
	rows  int // rows in batch, readings and rejects
	// firstLine and lastLine are the lines the batch covers, for errors.
	firstLine, lastLine int
}

// newBatch returns an empty import batch.
func newBatch() writer.Batch {
	return writer.Batch{Source: reading.SourceImport, Register: true}
}

// add queues a reading read from line and writes the batch when full.
func (b *batcher) add(ctx context.Context, line int, r reading.Reading) error {
	b.note(line)
	b.batch.Readings = append(b.batch.Readings, r)
	if len(b.batch.Readings) >= b.size {
		return b.flush(ctx)
	}
	return nil
}

// reject queues a rejected row. Rejects ride with the readings; a batch
// is written when its readings, not its rejects, fill it, unless a file
// is all rejects.
func (b *batcher) reject(ctx context.Context, rej writer.Reject) error {
	b.note(rej.Index)
	b.batch.Rejects = append(b.batch.Rejects, rej)
	if len(b.batch.Rejects) >= b.size {
		return b.flush(ctx)
	}
	return nil
}

// note records that the batch holds the row at line.
func (b *batcher) note(line int) {
	if b.rows == 0 {
		b.firstLine = line
	}
	b.lastLine = line
	b.rows++
}

// flush writes the batch, if any, and adds its result to the counts.
func (b *batcher) flush(ctx context.Context) error {
	if b.rows == 0 {
		return nil
	}
	res, err := b.write(ctx)
	if err != nil {
		return fmt.Errorf("write lines %d to %d: %w", b.firstLine, b.lastLine, err)
	}

	b.file.add(b.rows, res)
	b.sum.add(b.rows, res)

	b.batch, b.rows = newBatch(), 0
	return nil
}

// write hands the batch to the sink, waiting while its queue is full.
func (b *batcher) write(ctx context.Context) (writer.Result, error) {
	wait := queueFullBackoff
	for {
		res, err := b.sink.Write(ctx, b.batch)
		if !errors.Is(err, writer.ErrQueueFull) {
			return res, err
		}

		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return writer.Result{}, ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, queueFullMaxBackoff)
	}
}
