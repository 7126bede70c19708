package ledger

// RestoreRefund recomputes the State of a refund record that was stored
// without it (the state is derived from the snapshots and postings, so a
// store need not keep it). It emits no fact and books nothing: the postings
// are taken as stored (for a record ApplyRefund produced, they hold what is
// due; one stored by another fold version is served as it is until the
// rebuild replaces it).
func RestoreRefund(rec RefundRecord) RefundRecord {
	if len(rec.Snapshots) == 0 {
		rec.State = Refund{}
		return rec
	}
	rec.State = foldRefundState(&rec, false)
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
