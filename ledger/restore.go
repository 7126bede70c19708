package ledger

// RestoreRefund recomputes the State of a refund record that was stored
// without it (the state is derived from the snapshots and postings, so a
// store need not keep it). It emits no fact and, for a record that
// ApplyRefund produced, books nothing: its postings already hold what is due.
func RestoreRefund(rec RefundRecord) RefundRecord {
	if len(rec.Snapshots) == 0 {
		rec.State = Refund{}
		return rec
	}
	rec.State = foldRefundState(&rec)
	return rec
}

// RestoreOrder recomputes the State of an order record stored without it.
// It emits no fact.
func RestoreOrder(rec OrderRecord) OrderRecord {
	if len(rec.Messages) == 0 && len(rec.Refunds) == 0 {
		rec.State = Order{}
		return rec
	}
	rec.State = rec.foldState()
	return rec
}
