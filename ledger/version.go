package ledger

// FoldVersion identifies the fold's semantics. Change it whenever the same
// callbacks would fold to a different state or facts; a projection built by
// another version is rebuilt from the stream.
//
// 4 folded as 3 did. It came with the projections' store layout 2, which
// binaries of version 3 cannot read (they knew no layout): a store of version
// 4 is one they rebuild rather than misread, should one be run again.
//
// 5: over_refund only where the paid total is known (an order message stated
// its totals); an amount of money beyond 2^50 fen makes its body undecodable
// (quarantined) instead of overflowing the sums; amount_changed_after_success
// comes from the set of snapshots (one per other pair of amounts a success
// snapshot carries, Ref "goods+carriage"), not from an adjusting posting,
// which only one order of arrival books.
//
// 6: a refund whose fold no longer reaches success (a larger snapshot
// contradicts the one that showed it) books nothing: an earlier posting is
// reversed by an adjustment, and the anomaly success_withdrawn is recorded.
// Before, the posting stayed, so Booked depended on the order of arrival.
// Also for orders: a status stated by messages without totals, before any
// message states totals, is a change only where it differs from the status
// before it (each such message used to count as one, so the same status
// twice made a second status_changed fact, which an older message stating
// totals, arriving later, took out of the history: the facts depended on the
// order of arrival), and a message stating totals but no status keeps the
// status before it (it used to leave the current status empty).
const FoldVersion = 6
