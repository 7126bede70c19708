package ledger

// LinkRefundFull is LinkRefund refolding the whole order, for the tests that
// check the incremental path against it.
func LinkRefundFull(rec OrderRecord, r Refund) (OrderRecord, []Fact) {
	return linkRefund(rec, r, true, nil)
}
