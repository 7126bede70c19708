// Package ledger is the domain of refundledger: the refund fold and the order
// ledger of the spec (README "The fold"), postings, anomalies and the facts
// that downstream services consume.
//
// Everything here is a pure function over values: no I/O, no clock, no NATS,
// no Pebble. A record (RefundRecord, OrderRecord) holds what the ledger keeps
// between callbacks; Apply* functions take a record and one decoded callback
// and return the new record and the facts that became true with it. Records
// are plain values that serialise to JSON, so the projection can store them
// and a replay is the same function over the same bytes. A Folder has the
// same functions as methods that reuse their scratch memory between calls,
// for a long fold.
//
// The central property: the state of a refund depends only on the set of
// snapshots received, never on their order or repetition.
package ledger
