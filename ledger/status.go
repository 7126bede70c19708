package ledger

// 1688 refund statuses (REFUNDS.md section 2).
const (
	StatusWaitSellerAgree   = "waitselleragree"
	StatusWaitBuyerModify   = "waitbuyermodify"
	StatusWaitBuyerSend     = "waitbuyersend"
	StatusWaitSellerReceive = "waitsellerreceive"
	StatusSuccess           = "refundsuccess"
	StatusClosed            = "refundclose"
)

// Phases are the canonical, cross-platform view of a refund's status, so
// queries and reports can treat 1688 and Taobao alike.
const (
	PhasePendingSeller  = "pending_seller"  // seller must answer the application
	PhasePendingBuyer   = "pending_buyer"   // buyer must modify or cancel
	PhasePendingReturn  = "pending_return"  // buyer must ship the goods back
	PhasePendingReceipt = "pending_receipt" // seller must confirm the return
	PhaseSucceeded      = "succeeded"
	PhaseClosed         = "closed"
	PhaseUnknown        = "unknown" // a status this version does not know
)

// IsTerminal reports whether a status ends the refund (1688 or Taobao form).
func IsTerminal(status string) bool {
	switch status {
	case StatusSuccess, StatusClosed, "SUCCESS", "CLOSED":
		return true
	}
	return false
}

// PhaseOf maps a native status (1688 lower-case or Taobao upper-case) to its
// canonical phase.
func PhaseOf(status string) string {
	switch status {
	case StatusWaitSellerAgree, "WAIT_SELLER_AGREE":
		return PhasePendingSeller
	case StatusWaitBuyerModify, "SELLER_REFUSE_BUYER":
		return PhasePendingBuyer
	case StatusWaitBuyerSend, "WAIT_BUYER_RETURN_GOODS":
		return PhasePendingReturn
	case StatusWaitSellerReceive, "WAIT_SELLER_CONFIRM_GOODS":
		return PhasePendingReceipt
	case StatusSuccess, "SUCCESS":
		return PhaseSucceeded
	case StatusClosed, "CLOSED":
		return PhaseClosed
	}
	return PhaseUnknown
}

// expected lists the transitions the spec expects (REFUNDS.md 3.6), besides
// "any state -> itself" and "any non-terminal -> refundsuccess | refundclose".
var expected = map[[2]string]bool{
	{"", StatusWaitSellerAgree}:                      true,
	{StatusWaitSellerAgree, StatusWaitBuyerSend}:     true,
	{StatusWaitSellerAgree, StatusWaitBuyerModify}:   true,
	{StatusWaitBuyerModify, StatusWaitSellerAgree}:   true,
	{StatusWaitBuyerSend, StatusWaitSellerReceive}:   true,
	{StatusWaitSellerReceive, StatusWaitBuyerModify}: true,
}

// IsExpectedTransition reports whether from -> to is in the transition table.
func IsExpectedTransition(from, to string) bool {
	if from == to || expected[[2]string{from, to}] {
		return true
	}
	return from != "" && !IsTerminal(from) && IsTerminal(to)
}
