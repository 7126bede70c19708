// Package projections folds the callback stream into Pebble and serves the
// read side.
//
// The projection's promise: its state always equals the fold (package ledger)
// of the stream up to its checkpoint. State, indexes, the checkpoint (the
// last stream sequence folded) and the outbox of new facts are written in one
// Pebble batch, committed with sync, so a crash at any moment leaves either
// the batch or nothing. Pebble is the truth for the position: the projector
// restarts reading at checkpoint+1.
package projections
