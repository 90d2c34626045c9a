package importer

import (
	"bytes"
	"strings"
	"testing"

	"github.com/routerlogger/routerlogger/ingest/reading"
)

// benchHeader and benchRow are a row of the MTU 5G recordings.
const (
	benchHeader = "Time,rsrp(dBm),rsrq(dB),rssi(dBm),nr_rsrp(dBm),nr_rsrq(dB),nr_rssi(dBm)," +
		"Sent Bytes,RATE(MBit/s)"
	benchRow = "Wed Dec 15 16:04:38 UTC 2021,-110,-15,-73,0,0,0,14229,0"
)

// benchLayout returns the guessed layout of the benchmark header.
func benchLayout(tb testing.TB) *csvLayout {
	tb.Helper()
	l, err := newCSVLayout(strings.Split(benchHeader, ","), Options{Router: "bench"})
	if err != nil {
		tb.Fatal(err)
	}
	if err := l.guessTime([]string{"Wed Dec 15 16:04:38 UTC 2021"}); err != nil {
		tb.Fatal(err)
	}
	return l
}

func TestCSVLayout_reading(t *testing.T) {
	l := benchLayout(t)
	r, ferr := l.reading(&reading.Parser{}, strings.Split(benchRow, ","))
	if ferr != nil {
		t.Fatal(ferr)
	}
	if r.DeviceID != "bench" || r.Time.Format("2006-01-02T15:04:05Z07:00") != "2021-12-15T16:04:38Z" ||
		r.TxBytes == nil || *r.TxBytes != 14229 || r.RxBytes != nil ||
		r.RSRP == nil || *r.RSRP != -110 || r.RSRQ == nil || *r.RSRQ != -15 ||
		r.RSSI == nil || *r.RSSI != -73 || r.SINR != nil {
		t.Errorf("reading %+v does not hold the row's values", r)
	}
}

func TestRecorder(t *testing.T) {
	text := "a,b\n\n\"x\ny\",2\r\nlast,3"
	rows := newCSVRows(strings.NewReader(text))
	want := []struct {
		line int
		raw  string
	}{{1, "a,b"}, {3, "\"x\ny\",2"}, {5, "last,3"}}
	for _, w := range want {
		_, line, raw, err := rows.next()
		if err != nil {
			t.Fatal(err)
		}
		if line != w.line || !bytes.Equal(raw, []byte(w.raw)) {
			t.Errorf("record at line %d %q, want line %d %q", line, raw, w.line, w.raw)
		}
	}
	if len(rows.rec.buf) > len(text) {
		t.Errorf("recorder holds %d bytes, more than the input", len(rows.rec.buf))
	}
}

// BenchmarkCSVLayout_reading measures one CSV row through the parser: the
// JSON object built from the cells, encoded and parsed.
func BenchmarkCSVLayout_reading(b *testing.B) {
	l := benchLayout(b)
	p := &reading.Parser{}
	fields := strings.Split(benchRow, ",")
	b.ReportAllocs()
	for b.Loop() {
		if _, ferr := l.reading(p, fields); ferr != nil {
			b.Fatal(ferr)
		}
	}
}

// BenchmarkParser_Parse is the parser alone on the JSON the row becomes,
// to tell the cost of the round trip through JSON from the parser's own.
func BenchmarkParser_Parse(b *testing.B) {
	raw := []byte(`{"cell":{"rsrp":"-110","rsrq":"-15","rssi":"-73"},` +
		`"counters":{"total_tx_bytes":"14229"},"device_id":"bench",` +
		`"timestamp":"2021-12-15T16:04:38Z"}`)
	p := &reading.Parser{}
	b.ReportAllocs()
	for b.Loop() {
		if _, ferr := p.Parse(raw); ferr != nil {
			b.Fatal(ferr)
		}
	}
}
