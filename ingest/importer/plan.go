package importer

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// sniffLen is how many bytes are looked at to tell CSV from NDJSON.
const sniffLen = 512

// utf8BOM is skipped at the start of a file; spreadsheet exports add it.
var utf8BOM = []byte("\xEF\xBB\xBF")

// plan is one file checked and ready to import.
type plan struct {
	path string
	name string // base name, for progress and reject reasons
	size int64
	gzip bool
	csv  *csvLayout // set for CSV files
	// summary is filled as the file is imported.
	summary FileSummary
}

// prepare checks that path can be imported with opt: the file exists, its
// format is known and, for CSV, the columns are mapped and the time layout
// is guessed.
func prepare(path string, opt Options) (*plan, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("import %s: is a directory, want a file", path)
	}

	p := &plan{path: path, name: filepath.Base(path), size: st.Size(),
		gzip: strings.HasSuffix(strings.ToLower(path), ".gz")}
	p.summary.Path = path
	if p.summary.Format, err = p.format(opt.Format); err != nil {
		return nil, fmt.Errorf("import %s: %w", path, err)
	}

	if p.summary.Format == FormatCSV {
		if p.csv, err = prepareCSV(p, opt); err != nil {
			return nil, fmt.Errorf("import %s: %w", path, err)
		}
	}
	return p, nil
}

// format decides the file's format: the one asked for, else by its
// extension, else by its first non-blank byte.
func (p *plan) format(want string) (string, error) {
	if want != FormatAuto {
		return want, nil
	}
	switch filepath.Ext(strings.TrimSuffix(strings.ToLower(p.path), ".gz")) {
	case ".csv", ".tsv":
		return FormatCSV, nil
	case ".ndjson", ".jsonl", ".json":
		return FormatNDJSON, nil
	}
	return p.sniff()
}

// sniff tells NDJSON (first byte { or [) from CSV.
func (p *plan) sniff() (string, error) {
	r, err := p.open(nil)
	if err != nil {
		return "", err
	}
	defer r.Close()

	head := make([]byte, sniffLen)
	n, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read: %w", err)
	}
	head = bytes.TrimLeft(bytes.TrimPrefix(head[:n], utf8BOM), " \t\r\n")
	if len(head) > 0 && (head[0] == '{' || head[0] == '[') {
		return FormatNDJSON, nil
	}
	return FormatCSV, nil
}

// open opens the file for reading, counting its bytes on bar and
// decompressing it when it is gzipped.
func (p *plan) open(bar *progress) (io.ReadCloser, error) {
	f, err := os.Open(p.path)
	if err != nil {
		return nil, err
	}
	if !p.gzip {
		return readCloser{Reader: bar.reader(f), close: f.Close}, nil
	}

	zr, err := gzip.NewReader(bufio.NewReader(bar.reader(f)))
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("gzip: %w", err)
	}
	return readCloser{Reader: zr, close: func() error {
		return errors.Join(zr.Close(), f.Close())
	}}, nil
}

// readCloser pairs a reader with the function that closes its source.
type readCloser struct {
	io.Reader
	close func() error
}

// Close closes the source.
func (r readCloser) Close() error { return r.close() }
