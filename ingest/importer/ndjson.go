package importer

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/routerlogger/routerlogger/ingest/reading"
	"github.com/routerlogger/routerlogger/ingest/writer"
)

// importNDJSON reads a file of one JSON reading per line into b. A file
// that starts with [ is read as one JSON array of readings instead.
func importNDJSON(ctx context.Context, p *plan, opt Options, bar *progress, b *batcher) error {
	f, err := p.open(bar)
	if err != nil {
		return err
	}
	defer f.Close()

	br := bufio.NewReaderSize(f, 64<<10)
	if isArray(br) {
		return importArray(ctx, p, opt, br, b)
	}

	for line := 1; ; line++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		text, err := br.ReadBytes('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("line %d: %w", line, err)
		}
		if line == 1 {
			text = bytes.TrimPrefix(text, utf8BOM)
		}
		if text = bytes.TrimSpace(text); len(text) > 0 {
			if err := jsonRow(ctx, b, opt, p.name, line, text); err != nil {
				return err
			}
		}
		if err != nil {
			return nil // io.EOF
		}
	}
}

// isArray reports whether the input's first non-blank byte opens an array.
func isArray(br *bufio.Reader) bool {
	head, _ := br.Peek(sniffLen)
	head = bytes.TrimLeft(bytes.TrimPrefix(head, utf8BOM), " \t\r\n")
	return len(head) > 0 && head[0] == '['
}

// importArray reads a JSON array of readings; the index of a reading is
// its 1-based position in the array. A syntax error ends the file, since
// the rest of an array cannot be found after it.
func importArray(ctx context.Context, p *plan, opt Options, br *bufio.Reader, b *batcher) error {
	if bom, _ := br.Peek(len(utf8BOM)); bytes.Equal(bom, utf8BOM) {
		_, _ = br.Discard(len(utf8BOM))
	}
	dec := json.NewDecoder(br)
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("json array: %w", err)
	}

	for n := 1; dec.More(); n++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return fmt.Errorf("json array element %d: %w", n, err)
		}
		if err := jsonRow(ctx, b, opt, p.name, n, raw); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("json array end: %w", err)
	}
	return nil
}

// jsonRow parses one JSON reading and hands it to b as a reading or a
// reject.
func jsonRow(ctx context.Context, b *batcher, opt Options, file string, index int,
	raw []byte) error {
	r, ferr := parseJSON(opt, raw)
	if ferr == nil {
		return b.add(ctx, index, r)
	}

	serial := opt.Router
	if serial == "" {
		serial = r.DeviceID
	}
	return b.reject(ctx, writer.Reject{
		Index:   index,
		Serial:  serial,
		Field:   ferr.Field,
		Reason:  fmt.Sprintf("%s:%d: %s", file, index, ferr.Reason),
		Payload: raw,
	})
}

// parseJSON parses one reading with the parser, setting its device_id to
// opt.Router when one is given, and rejects a reading without a
// timestamp: an import cannot fall back on the receive time.
func parseJSON(opt Options, raw []byte) (reading.Reading, *reading.FieldError) {
	r, ferr := opt.Parser.Parse(raw)
	switch {
	case opt.Router == "":
	case ferr == nil:
		r.DeviceID = opt.Router
	case ferr.Field == fieldDeviceID:
		r, ferr = parseWithSerial(opt.Parser, raw, opt.Router)
	}

	if ferr == nil && r.TimeMissing {
		return reading.Reading{}, &reading.FieldError{Field: fieldTime,
			Reason: "missing or unknown; an imported reading needs its time"}
	}
	return r, ferr
}

// parseWithSerial parses raw with its device_id replaced by serial, for
// lines that lack one or carry a bad one.
func parseWithSerial(p *reading.Parser, raw []byte, serial string) (reading.Reading,
	*reading.FieldError) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return p.Parse(raw) // not an object: let the parser say so
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return p.Parse(raw) // data after the object
	}

	obj[fieldDeviceID] = serial
	fixed, err := json.Marshal(obj)
	if err != nil {
		return reading.Reading{}, &reading.FieldError{Reason: "encode reading: " + err.Error()}
	}
	return p.Parse(fixed)
}
