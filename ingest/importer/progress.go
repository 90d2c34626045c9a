package importer

import (
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress is a byte-based progress bar over all files of an import; a
// nil *progress draws nothing.
type progress struct {
	bar *progressbar.ProgressBar
}

// newProgress returns a bar over total bytes drawn on w, or nil when w is
// nil.
func newProgress(w io.Writer, total int64) *progress {
	if w == nil {
		return nil
	}
	bar := progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionShowBytes(true),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionOnCompletion(func() { _, _ = fmt.Fprintln(w) }),
	)
	return &progress{bar: bar}
}

// describe names the file being read.
func (p *progress) describe(name string) {
	if p != nil {
		p.bar.Describe(name)
	}
}

// add advances the bar by n bytes.
func (p *progress) add(n int) {
	if p != nil && n > 0 {
		_ = p.bar.Add(n)
	}
}

// finish completes the bar when the import is done, or leaves it where
// it stopped.
func (p *progress) finish(done bool) {
	switch {
	case p == nil:
	case done:
		_ = p.bar.Finish()
	default:
		_ = p.bar.Exit()
	}
}

// reader counts the bytes read from r on the bar.
func (p *progress) reader(r io.Reader) io.Reader {
	if p == nil {
		return r
	}
	return &countingReader{r: r, p: p}
}

// countingReader advances a progress bar as it is read.
type countingReader struct {
	r io.Reader
	p *progress
}

// Read reads from the underlying reader and counts the bytes.
func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.p.add(n)
	return n, err
}
