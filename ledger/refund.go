package ledger

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"refundledger/proto"
)

// ApplyRefund folds one refund snapshot into rec and returns the new record
// and the facts that became true with it (none for a snapshot already seen
// whose earliest push time does not change). rec may be the zero value for a
// refund never seen; platform and snap.RefundID identify the refund.
//
// Guarantees: the record's State depends only on the set of snapshots applied
// so far (not their order or repetition), with one exception stated by the
// spec: the posting journal is append-only, so if a refund's amounts change
// after it succeeded, or a larger snapshot no longer reaches success, the
// split of the booked total into postings depends on what was seen when;
// Booked (their sum) does not: it is the authoritative refunded amounts once
// the fold reaches success, else 0. A fact id is returned at
// most once over the life of a record. The input record is never mutated
// (slices are copied on write), so callers may keep it. A snapshot that
// changes nothing (already folded, with no earlier push time) returns rec
// itself, its slices included; any change returns a record with a fresh
// Snapshots slice, so a caller can tell the two apart without comparing
// contents.
func ApplyRefund(rec RefundRecord, platform proto.Platform, snap proto.RefundSnapshot, d Delivery) (RefundRecord, []Fact) {
	return applyRefund(rec, platform, snap, d, nil)
}

func applyRefund(rec RefundRecord, platform proto.Platform, snap proto.RefundSnapshot, d Delivery, sc *scratch) (RefundRecord, []Fact) {
	digest := snapshotDigest(&snap)
	snaps := rec.Snapshots
	i := sort.Search(len(snaps), func(i int) bool { return snaps[i].Digest >= digest })
	if i < len(snaps) && snaps[i].Digest == digest {
		p := earliest(snaps[i].PushedAt, d.PushedAt)
		if p == snaps[i].PushedAt {
			return rec, nil
		}
		snaps = append([]Snapshot(nil), snaps...)
		snaps[i].PushedAt = p
	} else {
		snaps = make([]Snapshot, 0, len(rec.Snapshots)+1)
		snaps = append(append(append(snaps, rec.Snapshots[:i]...), Snapshot{Digest: digest, PushedAt: d.PushedAt, Refund: snap}), rec.Snapshots[i:]...)
	}
	next := RefundRecord{Platform: platform, RefundID: snap.RefundID, Snapshots: snaps, Postings: rec.Postings, Emitted: rec.Emitted}
	next.State = foldRefundState(&next, true)
	facts, emitted := refundFacts(&next.State, rec.Emitted, sc)
	next.Emitted = emitted
	return next, facts
}

// earliest returns the earlier of two push times, 0 meaning unknown.
func earliest(a, b int64) int64 {
	if a == 0 || (b != 0 && b < a) {
		return b
	}
	return a
}

// foldRefundState folds rec.Snapshots, books any money now due into
// rec.Postings when book is set (appending, never editing) and returns the
// state.
func foldRefundState(rec *RefundRecord, book bool) Refund {
	f := foldRefund(rec.Snapshots)
	a := &f.auth.Refund
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
		CreatedAt:  Time(a.CreatedAt),
		UpdatedAt:  Time(a.ModifiedAt),
		Operations: f.transition,
		Snapshots:  len(rec.Snapshots),
		Anomalies:  f.anomalies,
	}
	if st.OrderID == "" {
		for _, s := range rec.Snapshots { // sorted by digest: deterministic
			if s.Refund.OrderID != "" {
				st.OrderID = s.Refund.OrderID
				break
			}
		}
	}
	var successAt Time
	succeeded := false
	for _, t := range f.transition {
		if t.At > st.UpdatedAt {
			st.UpdatedAt = t.At
		}
		if !succeeded && PhaseOf(t.To) == PhaseSucceeded {
			succeeded, successAt = true, t.At
		}
	}
	if !succeeded && PhaseOf(a.Status) == PhaseSucceeded {
		succeeded = true
		successAt = Time(firstNonZero(a.CompletedAt, a.ModifiedAt, f.auth.PushedAt))
	}
	switch {
	case !book:
	case succeeded:
		rec.Postings = bookDue(rec, a.RefundPayment, a.RefundCarriage, a.ModifiedAt, successAt)
	case len(rec.Postings) > 0:
		// Booked when an earlier set of snapshots reached success, which
		// this set no longer does: the money due is now nothing, so the
		// journal reverses what it holds (postings are never deleted), and
		// Booked is the same whatever order the snapshots came in.
		// Dated at the authoritative snapshot's gmtModified, never before
		// the posting it reverses.
		at := rec.Postings[len(rec.Postings)-1].At
		rec.Postings = bookDue(rec, 0, 0, a.ModifiedAt, at)
	}
	if !succeeded {
		st.Anomalies = successWithdrawn(st.Anomalies, rec.Snapshots, a)
	}
	st.Postings = rec.Postings
	if st.Postings == nil {
		st.Postings = []Posting{}
	}
	for _, p := range rec.Postings {
		st.Booked += p.Amount
	}
	if succeeded {
		st.Anomalies = amountsChanged(st.Anomalies, rec.Snapshots, a)
	}
	if st.Anomalies == nil {
		st.Anomalies = []Anomaly{}
	}
	return st
}

// amountsChanged appends an amount_changed_after_success anomaly for each
// other pair of refunded amounts (goods + carriage) that a snapshot showing
// the refund succeeded carries, besides the authoritative snapshot a's. It
// depends on the set of snapshots only: the postings show the change as an
// adjustment only when the snapshots came in that order (see bookDue).
func amountsChanged(out []Anomaly, snaps []Snapshot, a *proto.RefundSnapshot) []Anomaly {
	start := len(out)
	for i := range snaps {
		s := &snaps[i].Refund
		if PhaseOf(s.Status) != PhaseSucceeded || (s.RefundPayment == a.RefundPayment && s.RefundCarriage == a.RefundCarriage) {
			continue
		}
		ref := amountsRef(s.RefundPayment, s.RefundCarriage)
		if slices.ContainsFunc(out[start:], func(o Anomaly) bool { return o.Ref == ref }) {
			continue
		}
		out = append(out, Anomaly{
			Code: AnomalyAmountChanged,
			Detail: fmt.Sprintf("a snapshot showing the refund succeeded carries %d + %d fen (goods + carriage), "+
				"the authoritative one %d + %d fen; the postings book the authoritative amounts",
				s.RefundPayment, s.RefundCarriage, a.RefundPayment, a.RefundCarriage),
			Ref: ref,
		})
	}
	// In an order of their own, not the snapshots' digests'.
	slices.SortFunc(out[start:], func(x, y Anomaly) int { return strings.Compare(x.Ref, y.Ref) })
	return out
}

// amountsRef names a pair of refunded amounts in an anomaly's Ref (and so in
// its fact id).
func amountsRef(goods, carriage int64) string {
	return strconv.FormatInt(goods, 10) + "+" + strconv.FormatInt(carriage, 10)
}

func firstNonZero(v ...int64) int64 {
	for _, x := range v {
		if x != 0 {
			return x
		}
	}
	return 0
}

// successWithdrawn appends a success_withdrawn anomaly when a snapshot shows
// the refund at success (its status, or an operation's status before it)
// while no transition of the fold of all of them, led by the authoritative
// snapshot a, reaches success (a snapshot whose oldest operation starts from
// refundsuccess counts too: the fold starts there, but does not reach it). It depends on the set of snapshots only. Such a
// refund has nothing booked: whatever an earlier set booked is reversed.
func successWithdrawn(out []Anomaly, snaps []Snapshot, a *proto.RefundSnapshot) []Anomaly {
	for i := range snaps {
		s := &snaps[i].Refund
		if !reportsSuccess(s) {
			continue
		}
		return append(out, Anomaly{
			Code: AnomalySuccessWithdrawn,
			Detail: fmt.Sprintf("a snapshot shows the refund at refundsuccess (%d + %d fen, goods + carriage), but no "+
				"transition of the fold of all snapshots reaches success (the authoritative one has %d operations, "+
				"status %s): nothing is booked, and a posting booked before is reversed",
				s.RefundPayment, s.RefundCarriage, len(a.Operations), orNone(a.Status)),
		})
	}
	return out
}

// reportsSuccess: s says the refund is, or was, succeeded.
func reportsSuccess(s *proto.RefundSnapshot) bool {
	if PhaseOf(s.Status) == PhaseSucceeded {
		return true
	}
	for i := range s.Operations {
		if PhaseOf(s.Operations[i].Before) == PhaseSucceeded || PhaseOf(s.Operations[i].After) == PhaseSucceeded {
			return true
		}
	}
	return false
}

// bookDue returns the journal with a posting appended when the money due (goods
// and carriage) differs from what the journal holds, or when nothing was
// booked yet (the success posting, even of 0 fen). Existing postings are
// never edited. A first posting is dated successAt; an adjustment, at the
// authoritative snapshot's gmtModified when that is later.
func bookDue(rec *RefundRecord, dueGoods, dueCarriage, modifiedAt int64, successAt Time) []Posting {
	var goods, carriage int64
	for _, p := range rec.Postings {
		goods += p.Goods
		carriage += p.Carriage
	}
	dg, dc := dueGoods-goods, dueCarriage-carriage
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
		if m := Time(modifiedAt); m > successAt {
			p.At = m
		}
	}
	out := make([]Posting, len(rec.Postings), len(rec.Postings)+1)
	copy(out, rec.Postings)
	return append(out, p)
}

// refundFacts derives every fact the state supports and returns those whose
// ids are not in emitted, with the new emitted list (see factSet). Ids are
// deterministic and a fact's content depends only on what its id names, so
// the same fact derived from another set of snapshots of a consistent history
// is equal.
func refundFacts(st *Refund, emitted []string, sc *scratch) ([]Fact, []string) {
	base := Fact{Platform: st.Platform, OrderID: st.OrderID, RefundID: st.RefundID}
	prefix := string(st.Platform) + "/" + st.RefundID + "/"
	fs := newFactSet(emitted, len(st.Operations)+len(st.Postings)+len(st.Anomalies)+2, sc)

	f := base
	f.Kind, f.At = FactRefundOpened, st.CreatedAt
	if len(st.Operations) > 0 {
		f.At, f.Status = st.Operations[0].At, st.Operations[0].To
	}
	fs.start(prefix).str(FactRefundOpened).add(f)
	var terminalAt Time
	for i := range st.Operations {
		t := &st.Operations[i]
		f := base
		f.Kind, f.At, f.Status, f.Transition = FactRefundTransition, t.At, t.To, t
		fs.start(prefix).str("op/").str(t.ID).add(f)
		if terminalAt == 0 && t.To == st.Status && !IsTerminal(t.From) {
			terminalAt = t.At
		}
	}
	if st.Terminal {
		kind := FactRefundClosed
		if st.Phase == PhaseSucceeded {
			kind = FactRefundSucceeded
		}
		f := base
		f.Kind, f.Status, f.At = kind, st.Status, terminalAt
		if f.At == 0 {
			f.At = st.UpdatedAt
		}
		fs.start(prefix).str(kind).add(f)
	}
	for i := range st.Postings {
		p := &st.Postings[i]
		f := base
		f.Kind, f.At, f.Posting = FactPostingBooked, p.At, p
		fs.start(p.ID).add(f)
	}
	for i := range st.Anomalies {
		a := &st.Anomalies[i]
		f := base
		f.Kind, f.Anomaly = FactAnomaly, a
		fs.start(prefix).str("anomaly/").str(a.Code).str("/").str(a.Ref).add(f)
	}
	return fs.result()
}
