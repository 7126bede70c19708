package ledger

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sort"
	"strconv"

	"refundledger/proto"
)

// ApplyRefund folds one refund snapshot into rec and returns the new record
// and the facts that became true with it (none for a snapshot already seen).
// rec may be the zero value for a refund never seen. The record's State
// depends only on the set of snapshots applied so far; the posting journal is
// append-only.
func ApplyRefund(rec RefundRecord, platform proto.Platform, snap proto.RefundSnapshot, d Delivery) (RefundRecord, []Fact) {
	digest := snapshotDigest(snap)
	snaps := rec.Snapshots
	i := sort.Search(len(snaps), func(i int) bool { return snaps[i].Digest >= digest })
	if i < len(snaps) && snaps[i].Digest == digest {
		if d.PushedAt <= snaps[i].PushedAt {
			return rec, nil
		}
		snaps = append([]Snapshot(nil), snaps...)
		snaps[i].PushedAt = d.PushedAt
	} else {
		snaps = append(append(append([]Snapshot(nil), snaps[:i]...), Snapshot{Digest: digest, PushedAt: d.PushedAt, Refund: snap}), snaps[i:]...)
	}
	next := RefundRecord{Platform: platform, RefundID: snap.RefundID, Snapshots: snaps, Postings: rec.Postings, Emitted: rec.Emitted}
	next.State = foldRefundState(&next)
	facts, emitted := newFacts(refundFacts(next.State), rec.Emitted)
	next.Emitted = emitted
	return next, facts
}

// foldRefundState folds rec.Snapshots, books any money now due into
// rec.Postings (appending, never editing) and returns the state.
func foldRefundState(rec *RefundRecord) Refund {
	f := foldRefund(rec.Snapshots)
	a := f.auth.Refund
	st := Refund{
		Platform:   rec.Platform,
		RefundID:   rec.RefundID,
		OrderID:    a.OrderID,
		Status:     a.Status,
		Phase:      PhaseOf(a.Status),
		Terminal:   IsTerminal(a.Status),
		OnlyRefund: a.OnlyRefund,
		Amounts: Amounts{
			ApplyPayment: a.ApplyPayment, ApplyCarriage: a.ApplyCarriage,
			RefundPayment: a.RefundPayment, RefundCarriage: a.RefundCarriage,
		},
		CreatedAt:  a.CreatedAt,
		UpdatedAt:  a.ModifiedAt,
		Operations: f.transition,
		Snapshots:  len(rec.Snapshots),
	}
	st.Anomalies = append(append([]Anomaly{}, f.changed...), f.anomalies...)
	if st.OrderID == "" {
		for _, s := range rec.Snapshots {
			if s.Refund.OrderID != "" {
				st.OrderID = s.Refund.OrderID
				break
			}
		}
	}
	var successAt Time
	for _, t := range f.transition {
		if int64(t.At) > st.UpdatedAt {
			st.UpdatedAt = int64(t.At)
		}
		if successAt == 0 && t.To == StatusSuccess {
			successAt = t.At
		}
	}
	if successAt == 0 && a.Status == StatusSuccess {
		successAt = Time(a.CompletedAt)
		if successAt == 0 {
			successAt = Time(a.ModifiedAt)
		}
	}
	if successAt != 0 {
		rec.Postings = book(rec, a, successAt)
	}
	st.Postings = rec.Postings
	for _, p := range rec.Postings {
		st.Booked += p.Amount
		if p.Kind == PostingAdjustment {
			st.Anomalies = append(st.Anomalies, Anomaly{
				Code:   AnomalyAmountChanged,
				Detail: "the refunded amounts changed after the refund succeeded; posting " + p.ID + " books the difference",
				Ref:    p.ID,
			})
		}
	}
	return st
}

// book appends a posting when the money due (goods and carriage of the
// authoritative snapshot) differs from what the journal holds.
func book(rec *RefundRecord, a proto.RefundSnapshot, successAt Time) []Posting {
	var goods, carriage int64
	for _, p := range rec.Postings {
		goods += p.Goods
		carriage += p.Carriage
	}
	dg, dc := a.RefundPayment-goods, a.RefundCarriage-carriage
	if dg == 0 && dc == 0 && len(rec.Postings) > 0 {
		return rec.Postings
	}
	p := Posting{
		ID:       string(rec.Platform) + "/" + rec.RefundID + "/posting/" + strconv.Itoa(len(rec.Postings)+1),
		Kind:     PostingRefund,
		Goods:    dg,
		Carriage: dc,
		Amount:   dg + dc,
		At:       successAt,
	}
	if len(rec.Postings) > 0 {
		p.Kind = PostingAdjustment
		if m := Time(a.ModifiedAt); m > successAt {
			p.At = m
		}
	}
	return append(append([]Posting(nil), rec.Postings...), p)
}

// refundFacts derives every fact the state supports; ids are deterministic.
func refundFacts(st Refund) []Fact {
	base := Fact{Platform: st.Platform, OrderID: st.OrderID, RefundID: st.RefundID}
	prefix := string(st.Platform) + "/" + st.RefundID + "/"
	var out []Fact
	add := func(f Fact) { out = append(out, f) }
	var opened Time
	if len(st.Operations) > 0 {
		opened = st.Operations[0].At
	}
	f := base
	f.ID, f.Kind, f.At, f.Status = prefix+FactRefundOpened, FactRefundOpened, opened, st.Status
	add(f)
	for i := range st.Operations {
		t := st.Operations[i]
		f := base
		f.ID, f.Kind, f.At, f.Status, f.Transition = prefix+"op/"+t.ID, FactRefundTransition, t.At, t.To, &t
		add(f)
	}
	if st.Terminal {
		kind := FactRefundClosed
		if st.Status == StatusSuccess {
			kind = FactRefundSucceeded
		}
		f := base
		f.ID, f.Kind, f.Status = prefix+kind, kind, st.Status
		if n := len(st.Operations); n > 0 {
			f.At = st.Operations[n-1].At
		}
		add(f)
	}
	for i := range st.Postings {
		p := st.Postings[i]
		f := base
		f.ID, f.Kind, f.At, f.Posting = p.ID, FactPostingBooked, p.At, &p
		add(f)
	}
	for i := range st.Anomalies {
		a := st.Anomalies[i]
		f := base
		f.ID, f.Kind, f.Anomaly = prefix+"anomaly/"+a.Code+"/"+a.Ref, FactAnomaly, &a
		add(f)
	}
	return out
}

// snapshotDigest identifies a snapshot's decoded content.
func snapshotDigest(s proto.RefundSnapshot) string {
	b, _ := json.Marshal(s) // a struct of strings and ints: cannot fail
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:12])
}
