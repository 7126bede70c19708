package ledger

import (
	"strings"

	"refundledger/proto"
)

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

// phases maps every native status this version knows, 1688 (lower case) and
// Taobao (upper case), to its phase.
var phases = map[string]string{
	StatusWaitSellerAgree:   PhasePendingSeller,
	StatusWaitBuyerModify:   PhasePendingBuyer,
	StatusWaitBuyerSend:     PhasePendingReturn,
	StatusWaitSellerReceive: PhasePendingReceipt,
	StatusSuccess:           PhaseSucceeded,
	StatusClosed:            PhaseClosed,

	proto.TaobaoWaitSellerAgree:        PhasePendingSeller,
	proto.TaobaoSellerRefuseBuyer:      PhasePendingBuyer,
	proto.TaobaoWaitBuyerReturnGoods:   PhasePendingReturn,
	proto.TaobaoWaitSellerConfirmGoods: PhasePendingReceipt,
	proto.TaobaoSuccess:                PhaseSucceeded,
	proto.TaobaoClosed:                 PhaseClosed,
}

// IsTerminal reports whether a status ends the refund (1688 or Taobao form).
func IsTerminal(status string) bool {
	p := PhaseOf(status)
	return p == PhaseSucceeded || p == PhaseClosed
}

// PhaseOf maps a native status (1688 or Taobao form, in any letter case) to
// its canonical phase; PhaseUnknown for a status this version does not know.
// It is a pure function of its argument.
func PhaseOf(status string) string {
	switch status { // the common case, without hashing
	case StatusWaitSellerAgree:
		return PhasePendingSeller
	case StatusSuccess:
		return PhaseSucceeded
	}
	if p, ok := phases[status]; ok {
		return p
	}
	if p, ok := phases[strings.ToLower(status)]; ok {
		return p
	}
	if p, ok := phases[strings.ToUpper(status)]; ok {
		return p
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
