// Package projections folds the callback stream into Pebble and serves the
// read side.
//
// The projection's promise: its state always equals the fold (package ledger)
// of the stream up to its checkpoint. State, indexes, the checkpoint (the
// last stream sequence folded) and the outbox of new facts are written in one
// Pebble batch, so a crash at any moment leaves either the batch or nothing.
// Pebble is the truth for the position: the projector restarts reading at
// checkpoint+1.
//
// The files, by what they hold:
//
//	projector.go  read -> decode (every core) -> fold and commit, in stream order
//	batch.go      one batch: records, indexes, deliveries, outbox, checkpoint
//	decode.go     a stored callback decoded, or the reason it is quarantined
//	codec.go      the binary form of records, facts and deliveries in Pebble
//	store.go      the Pebble database; keys.go and index.go its key layout
//	projection.go the live projection: rebuild on a new fold version or layout, then fold
//	rebuild.go    a fresh projection from the stream, swapped in when caught up
//	audit.go      the live projection compared with a fresh fold, key by key
//	relay.go      the outbox published to REFUND_EVENTS, each fact once (events.go)
//	api.go        the admin HTTP API; query.go, filter.go, report.go behind it
//
// The live projector commits every batch synced to Pebble's log; a rebuild
// writes no log and flushes at the end (a crash leaves a consistent prefix).
package projections
