package ledger

// FoldVersion identifies the fold's semantics. Change it whenever the same
// callbacks would fold to a different state or facts; a projection built by
// another version is rebuilt from the stream.
//
// 4 folds as 3 did. It came with the projections' store layout 2, which
// binaries of version 3 cannot read (they knew no layout): a store of version
// 4 is one they rebuild rather than misread, should one be run again.
const FoldVersion = 4
