package ledger

import (
	"refundledger/proto"
)

// Delivery says how a callback reached the ledger. Only PushedAt (the earliest
// known push time of a message, as a late tie-break) and, for order messages,
// MessageID (identity) take part in the fold; the rest is carried for history.
type Delivery struct {
	Seq        uint64 `json:"seq"`        // stream sequence
	ReceivedAt int64  `json:"receivedAt"` // epoch ms, when the ingester got it
	PushedAt   int64  `json:"pushedAt"`   // envelope timestamp, epoch ms; 0 unknown
	RetryCount int64  `json:"retryCount"`
	MessageID  string `json:"messageId"`
}

// Snapshot is one distinct refund snapshot as the ledger keeps it: the decoded
// record plus its digest (identity of content) and the earliest non-zero push
// time of the callbacks that carried it (0 when none said).
type Snapshot struct {
	Digest   string               `json:"digest"`
	PushedAt int64                `json:"pushedAt"` // epoch ms
	Refund   proto.RefundSnapshot `json:"refund"`
}

// RefundRecord is everything the ledger keeps for one refund between
// callbacks: the distinct snapshots (the fold's input), the posting journal
// (append-only), the identities of facts already emitted, and the folded
// State. It is a value: Apply returns a new one and never mutates its input's
// shared slices.
type RefundRecord struct {
	Platform  proto.Platform `json:"platform"`
	RefundID  string         `json:"refundId"`
	Snapshots []Snapshot     `json:"snapshots"` // sorted by Digest
	Postings  []Posting      `json:"postings"`  // append-only
	Emitted   []string       `json:"emitted"`   // fact ids, sorted
	State     Refund         `json:"state"`
}

// Refund is the folded state of a refund: what queries answer and reports read.
type Refund struct {
	Platform   proto.Platform `json:"platform"`
	RefundID   string         `json:"refundId"`
	OrderID    string         `json:"orderId"`
	Status     string         `json:"status"`
	Phase      string         `json:"phase"`
	Terminal   bool           `json:"terminal"`
	Amounts    Amounts        `json:"amounts"`
	Booked     int64          `json:"booked"` // fen, sum of postings
	OnlyRefund bool           `json:"onlyRefund"`
	CreatedAt  Time           `json:"createdAt"` // gmtCreate of the authoritative snapshot
	UpdatedAt  Time           `json:"updatedAt"` // the newest known event
	Operations []Transition   `json:"operations"`
	Postings   []Posting      `json:"postings"`
	Anomalies  []Anomaly      `json:"anomalies"`
	Snapshots  int            `json:"snapshots"` // distinct snapshots folded
}

// Amounts are the refund's money fields from the authoritative snapshot, fen.
type Amounts struct {
	ApplyPayment   int64 `json:"applyPayment"`
	ApplyCarriage  int64 `json:"applyCarriage"`
	RefundPayment  int64 `json:"refundPayment"`
	RefundCarriage int64 `json:"refundCarriage"`
}

// Transition is one operation of the refund, placed in time, with the state
// it moved the refund from and to.
type Transition struct {
	ID     string `json:"id"`
	At     Time   `json:"at"`
	Type   int64  `json:"type"`
	Remark string `json:"remark"`
	Role   int64  `json:"role"`
	From   string `json:"from"`
	To     string `json:"to"`
}

// Posting is one booking of money in the journal. Amount = Goods + Carriage
// (fen); an adjustment carries the difference to what was booked before.
type Posting struct {
	ID       string `json:"id"`
	Kind     string `json:"kind"` // "refund" or "adjustment"
	Goods    int64  `json:"goods"`
	Carriage int64  `json:"carriage"`
	Amount   int64  `json:"amount"`
	At       Time   `json:"at"`
}

// Posting kinds.
const (
	PostingRefund     = "refund"
	PostingAdjustment = "adjustment"
)

// Anomaly is something the fold accepted but a person should know about.
type Anomaly struct {
	Code   string `json:"code"`
	Detail string `json:"detail"`
	Ref    string `json:"ref,omitempty"` // what it is about (operation id, ...)
}

// Anomaly codes.
const (
	AnomalyOperationChanged      = "operation_changed"
	AnomalyHistoryIncomplete     = "history_incomplete"
	AnomalyUnexpectedTransition  = "unexpected_transition"
	AnomalyActivityAfterTerminal = "activity_after_terminal"
	AnomalyAmountChanged         = "amount_changed_after_success"
	AnomalySuccessWithdrawn      = "success_withdrawn"
	AnomalyOverRefund            = "over_refund"
)
