package ledger

import (
	"refundledger/proto"
)

// Fact kinds. Refund facts are published on
// refunds.<platform>.<kind>.<orderId>.<refundId>, order facts on
// orders.<platform>.<kind>.<orderId>.
const (
	FactRefundOpened     = "opened"
	FactRefundTransition = "transition"
	FactRefundSucceeded  = "succeeded"
	FactRefundClosed     = "closed"
	FactPostingBooked    = "posting"
	FactAnomaly          = "anomaly"
	FactOrderStatus      = "status_changed"
	FactOrderPrice       = "price_corrected"
	FactOrderPriceSet    = "price_set" // the first totals known for an order
)

// Fact is something that became true in the ledger. Its ID is deterministic:
// the same fact derived again (after a crash, a rebuild, on another replica)
// has the same ID, so a publisher can emit it exactly once.
type Fact struct {
	ID         string         `json:"id"`
	Kind       string         `json:"kind"`
	Platform   proto.Platform `json:"platform"`
	OrderID    string         `json:"orderId"`
	RefundID   string         `json:"refundId,omitempty"`
	At         Time           `json:"at"`
	Status     string         `json:"status,omitempty"`
	Transition *Transition    `json:"transition,omitempty"`
	Posting    *Posting       `json:"posting,omitempty"`
	Anomaly    *Anomaly       `json:"anomaly,omitempty"`
	Order      *OrderTotals   `json:"order,omitempty"`
}

// IsRefund reports whether the fact is about a refund (else an order).
func (f Fact) IsRefund() bool { return f.RefundID != "" }
