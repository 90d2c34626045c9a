package reading_test

import (
	"testing"

	"github.com/routerlogger/routerlogger/ingest/reading"
)

// BenchmarkParser_ParseBody parses the whole fixture day as one NDJSON
// body and reports the cost per reading, with and without the schema.
func BenchmarkParser_ParseBody(b *testing.B) {
	body := readFixture(b, "router-telemetry-http.jsonl")
	n := len(fixtureLines(b))

	for _, bc := range []struct {
		name   string
		parser *reading.Parser
	}{
		{"schema", newParser()},
		{"no-schema", reading.WithoutSchema(*newParser())},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				items, err := bc.parser.ParseBody("application/x-ndjson", body)
				if err != nil || len(items) != n {
					b.Fatalf("ParseBody = %d items, %v", len(items), err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/reading")
		})
	}
}

// BenchmarkParser_Parse parses one fixture line.
func BenchmarkParser_Parse(b *testing.B) {
	line := fixtureLines(b)[0]
	p := newParser()
	b.ReportAllocs()
	for b.Loop() {
		if _, ferr := p.Parse(line); ferr != nil {
			b.Fatal(ferr)
		}
	}
}
