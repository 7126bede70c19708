package ledger

// FoldVersion identifies the fold's semantics. Change it whenever the same
// callbacks would fold to a different state or facts; a projection built by
// another version is rebuilt from the stream.
const FoldVersion = 3
