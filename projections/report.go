package projections

import (
	"sort"

	"refundledger/ledger"
	"refundledger/proto"
)

// Report is the money and health summary of the whole ledger, for finance
// and support: refunds by platform and phase with the money booked, and the
// anomalies to look at.
type Report struct {
	Checkpoint  uint64         `json:"checkpoint"` // the report reflects the stream up to here
	Rows        []ReportRow    `json:"rows"`       // by platform, then phase
	Anomalies   []AnomalyCount `json:"anomalies"`  // by code
	Refunds     int            `json:"refunds"`
	BookedTotal int64          `json:"bookedTotal"` // fen
	Quarantined uint64         `json:"quarantined"` // callbacks that could not be folded
}

// ReportRow is one platform and phase.
type ReportRow struct {
	Platform proto.Platform `json:"platform"`
	Phase    string         `json:"phase"`
	Refunds  int            `json:"refunds"`
	Booked   int64          `json:"booked"`   // fen, sum of postings
	Postings int            `json:"postings"` // postings booked
}

// AnomalyCount is how many refunds and orders carry an anomaly code.
type AnomalyCount struct {
	Code  string `json:"code"`
	Count int    `json:"count"`
}

// Report reads every refund and order once (it is a scan: its cost grows
// with the ledger, unlike the indexed queries).
func (s *Store) Report() (Report, error) {
	var rep Report
	var err error
	if rep.Checkpoint, err = s.Checkpoint(); err != nil {
		return rep, err
	}
	counts, err := s.Counts()
	if err != nil {
		return rep, err
	}
	rep.Quarantined = counts.Quarantined
	rows := map[[2]string]*ReportRow{}
	anomalies := map[string]int{}
	var derr error
	err = s.scan([]byte("refund/"), func(k, v []byte) bool {
		var rec ledger.RefundRecord
		if rec, derr = decodeRefundAt(k, v, nil); derr != nil {
			return false
		}
		st := &rec.State
		key := [2]string{string(st.Platform), st.Phase}
		row := rows[key]
		if row == nil {
			row = &ReportRow{Platform: st.Platform, Phase: st.Phase}
			rows[key] = row
		}
		row.Refunds++
		row.Booked += st.Booked
		row.Postings += len(st.Postings)
		rep.Refunds++
		rep.BookedTotal += st.Booked
		for _, a := range st.Anomalies {
			anomalies[a.Code]++
		}
		return true
	})
	if err == nil {
		err = derr
	}
	if err != nil {
		return rep, err
	}
	err = s.scan([]byte("order/"), func(k, v []byte) bool {
		var rec ledger.OrderRecord
		if rec, derr = decodeOrder(v); derr != nil {
			return false
		}
		for _, a := range rec.State.Anomalies {
			anomalies[a.Code]++
		}
		return true
	})
	if err == nil {
		err = derr
	}
	rep.Rows = []ReportRow{}
	for _, r := range rows {
		rep.Rows = append(rep.Rows, *r)
	}
	sort.Slice(rep.Rows, func(i, j int) bool {
		a, b := rep.Rows[i], rep.Rows[j]
		if a.Platform != b.Platform {
			return a.Platform < b.Platform
		}
		return phaseRank[a.Phase] < phaseRank[b.Phase]
	})
	rep.Anomalies = []AnomalyCount{}
	for code, n := range anomalies {
		rep.Anomalies = append(rep.Anomalies, AnomalyCount{Code: code, Count: n})
	}
	sort.Slice(rep.Anomalies, func(i, j int) bool { return rep.Anomalies[i].Code < rep.Anomalies[j].Code })
	return rep, err
}

// phaseRank orders phases as a refund goes through them.
var phaseRank = map[string]int{
	ledger.PhasePendingSeller: 1, ledger.PhasePendingBuyer: 2, ledger.PhasePendingReturn: 3,
	ledger.PhasePendingReceipt: 4, ledger.PhaseSucceeded: 5, ledger.PhaseClosed: 6, ledger.PhaseUnknown: 7,
}
