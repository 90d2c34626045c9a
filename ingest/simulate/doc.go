// Package simulate is a router-fleet telemetry simulator: it plays a fleet
// of Teltonika RUT routers over a span of simulated time and posts their
// readings to RouterLogger's HTTP API, as real routers do, including the
// things real routers get wrong.
//
// [Plan] is pure and deterministic for a seed: it returns every delivery
// in send order and the [Truth], the usage each router really had. The
// readings carry realistic identities (serials SIM-000001, IMEIs, ICCIDs,
// Teltonika MACs, CGNAT WAN addresses), radio values that wander within
// real ranges, and cumulative 64-bit counters fed by traffic that peaks in
// the evening. Reboots, counter glitches, late and duplicate deliveries
// are sprinkled in and counted in the truth, so a test or an operator can
// check that the server's usage equals the truth exactly.
//
// [Run] sends a plan: one JSON object or NDJSON batches per POST,
// optionally gzipped, from several clients, paced to a rate, and retrying
// 429 and 503 answers after their Retry-After.
package simulate
