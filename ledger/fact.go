package ledger

import (
	"sort"

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

// newFacts returns the facts of all whose ids are not in emitted (sorted),
// and the new emitted list (sorted; a fresh slice when anything was added).
// It never returns a fact twice, even when all repeats an id.
func newFacts(all []Fact, emitted []string) ([]Fact, []string) {
	var fresh []Fact
	var ids []string
	for i := range all {
		id := all[i].ID
		if k := sort.SearchStrings(emitted, id); k < len(emitted) && emitted[k] == id {
			continue
		}
		if contains(ids, id) {
			continue
		}
		fresh = append(fresh, all[i])
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return nil, emitted
	}
	sort.Strings(ids)
	out := make([]string, 0, len(emitted)+len(ids))
	i, j := 0, 0
	for i < len(emitted) && j < len(ids) {
		if emitted[i] < ids[j] {
			out = append(out, emitted[i])
			i++
		} else {
			out = append(out, ids[j])
			j++
		}
	}
	out = append(append(out, emitted[i:]...), ids[j:]...)
	return fresh, out
}
