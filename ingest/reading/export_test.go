package reading

// WithoutSchema returns a copy of p that skips JSON Schema validation, so
// that benchmarks can show what the schema costs.
func WithoutSchema(p Parser) *Parser {
	p.skipSchema = true
	return &p
}

// RadioRanges are the valid radio ranges the parser applies, by field.
var RadioRanges = map[string][2]float64{
	"rsrp": {rsrpMin, rsrpMax},
	"rsrq": {rsrqMin, rsrqMax},
	"sinr": {sinrMin, sinrMax},
	"rssi": {rssiMin, rssiMax},
}
