package ledger

import "refundledger/proto"

// A Folder applies callbacks as ApplyRefund, ApplyOrder and LinkRefund do,
// with the same results, but derives the facts in memory it keeps from one
// call to the next: the facts a call returns are valid until the Folder's
// next call (the records never share that memory). A long fold (the
// projector's) allocates that much less per callback, which its collector
// would otherwise reclaim. The zero value is ready to use; a Folder is not
// safe for concurrent use.
type Folder struct {
	sc scratch
}

// ApplyRefund is ApplyRefund with f's memory.
func (f *Folder) ApplyRefund(rec RefundRecord, platform proto.Platform, snap proto.RefundSnapshot, d Delivery) (RefundRecord, []Fact) {
	return applyRefund(rec, platform, snap, d, &f.sc)
}

// ApplyOrder is ApplyOrder with f's memory.
func (f *Folder) ApplyOrder(rec OrderRecord, platform proto.Platform, typ string, msg proto.OrderMessage, d Delivery) (OrderRecord, []Fact) {
	return applyOrder(rec, platform, typ, msg, d, &f.sc)
}

// LinkRefund is LinkRefund with f's memory.
func (f *Folder) LinkRefund(rec OrderRecord, r Refund) (OrderRecord, []Fact) {
	return linkRefund(rec, r, false, &f.sc)
}
