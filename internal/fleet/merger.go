package fleet

import "context"

// MergeResult is what a merge of a duplicate router row did, in the terms
// a caller outside ingest needs.
type MergeResult struct {
	KeepSerial, DupSerial string
	// MatchedBy is imei, serial or lan_mac: the identifier both rows share.
	MatchedBy      string
	SamplesMoved   int64
	SamplesDropped int64
}

// Merger merges a duplicate router row into the row kept. Package
// ingest/merge implements it (it owns the samples it moves); cmd wires it
// into the sync jobs, which therefore never import ingest.
type Merger interface {
	// MergeRouters merges the router dupSerial into keepSerial in one
	// transaction. It refuses routers that share no IMEI, serial or LAN
	// MAC: a shared name is never enough.
	MergeRouters(ctx context.Context, keepSerial, dupSerial string) (MergeResult, error)
}
