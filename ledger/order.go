package ledger

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"strings"

	"refundledger/proto"
)

// OrderRecord is everything the ledger keeps for one order: the distinct
// order messages, the refunds linked to it, the facts already emitted, and the
// folded State.
type OrderRecord struct {
	Platform proto.Platform  `json:"platform"`
	OrderID  string          `json:"orderId"`
	Messages []OrderSnapshot `json:"messages"` // sorted by Digest
	Refunds  []RefundLink    `json:"refunds"`  // sorted by RefundID
	Emitted  []string        `json:"emitted"`
	State    Order           `json:"state"`
}

// OrderSnapshot is one distinct order message: identified by its type,
// Xportcn message id and content; PushedAt is the earliest non-zero push time
// of the callbacks that carried it.
type OrderSnapshot struct {
	Digest   string             `json:"digest"`
	Type     string             `json:"type"`
	PushedAt int64              `json:"pushedAt"` // epoch ms
	Msg      proto.OrderMessage `json:"msg"`
}

// RefundLink is what an order knows of one of its refunds.
type RefundLink struct {
	RefundID string `json:"refundId"`
	Status   string `json:"status"`
	Phase    string `json:"phase"`
	Booked   int64  `json:"booked"` // fen
}

// OrderTotals are an order's totals and status as one message stated them.
type OrderTotals struct {
	Type          string `json:"type"`
	Status        string `json:"status"`
	PayStatus     int64  `json:"payStatus"`
	TotalAmount   int64  `json:"totalAmount"`   // fen
	ShippingFee   int64  `json:"shippingFee"`   // fen
	ProductAmount int64  `json:"productAmount"` // fen
	At            Time   `json:"at"`            // the message's push time
}

// PriceChange is one correction of the order's totals, with its difference
// from the totals before it (fen).
type PriceChange struct {
	OrderTotals
	DiffTotal    int64 `json:"diffTotal"`
	DiffShipping int64 `json:"diffShipping"`
	DiffProduct  int64 `json:"diffProduct"`
}

// Order is the folded state of an order.
type Order struct {
	Platform  proto.Platform `json:"platform"`
	OrderID   string         `json:"orderId"`
	OrderNo   string         `json:"orderNo"`
	Current   *OrderTotals   `json:"current"` // nil until an order message states totals
	Paid      bool           `json:"paid"`
	PaidTotal int64          `json:"paidTotal"` // fen; meaningful when Paid and PaidTotalKnown
	// PaidTotalKnown: some order message stated the order's totals. A paid
	// order whose messages never did (a status-only payment message, say)
	// has no known paid total, and its refunds cannot be checked against it.
	PaidTotalKnown bool          `json:"paidTotalKnown"`
	StatusHistory  []OrderTotals `json:"statusHistory"` // each change of status, in time order
	PriceHistory   []PriceChange `json:"priceHistory"`
	Refunds        []RefundLink  `json:"refunds"`
	RefundedTotal  int64         `json:"refundedTotal"` // fen, sum of the refunds' postings
	Anomalies      []Anomaly     `json:"anomalies"`
}

// typeRank orders order messages that carry the same push time by where they
// stand in an order's life.
var typeRank = map[string]int{
	proto.TypeOrderCreate: 1, proto.TypePriceModify: 2, proto.TypeOrderPaid: 3, proto.TypeOrderCancel: 4,
}

// ApplyOrder folds one order message into rec. The newest message (by push
// time, then lifecycle rank of its type, then digest) decides the current
// status and totals; an older one arriving late never overrides it. A message
// that states no totals (Taobao's form) keeps the totals before it, one that
// states no status the status before it. The state
// depends only on the set of messages applied (a retry of a message with the
// same id and content is the same message); a fact id is returned at most
// once; rec is never mutated. A message that changes nothing returns rec
// itself; any change returns a record with a fresh Messages slice.
func ApplyOrder(rec OrderRecord, platform proto.Platform, typ string, msg proto.OrderMessage, d Delivery) (OrderRecord, []Fact) {
	return applyOrder(rec, platform, typ, msg, d, nil)
}

func applyOrder(rec OrderRecord, platform proto.Platform, typ string, msg proto.OrderMessage, d Delivery, sc *scratch) (OrderRecord, []Fact) {
	digest := orderDigest(typ, d.MessageID, &msg)
	msgs := rec.Messages
	i := sort.Search(len(msgs), func(i int) bool { return msgs[i].Digest >= digest })
	if i < len(msgs) && msgs[i].Digest == digest {
		p := earliest(msgs[i].PushedAt, d.PushedAt)
		if p == msgs[i].PushedAt {
			return rec, nil
		}
		msgs = append([]OrderSnapshot(nil), msgs...)
		msgs[i].PushedAt = p
	} else {
		msgs = append(append(append([]OrderSnapshot(nil), msgs[:i]...), OrderSnapshot{Digest: digest, Type: typ, PushedAt: d.PushedAt, Msg: msg}), msgs[i:]...)
	}
	next := rec
	next.Platform, next.OrderID, next.Messages = platform, msg.OrderID, msgs
	return next.refold(sc)
}

// LinkRefund records the current state of one of the order's refunds (which
// may arrive before any order message) and re-checks the order's refunded
// total against its paid total. rec is never mutated. When the link is
// unchanged it returns rec itself; otherwise a record with a fresh Refunds
// slice.
func LinkRefund(rec OrderRecord, r Refund) (OrderRecord, []Fact) {
	return linkRefund(rec, r, false, nil)
}

// linkRefund is LinkRefund; with full it refolds the whole order instead of
// the links' part (what the incremental path must equal; see the tests).
func linkRefund(rec OrderRecord, r Refund, full bool, sc *scratch) (OrderRecord, []Fact) {
	link := RefundLink{RefundID: r.RefundID, Status: r.Status, Phase: r.Phase, Booked: r.Booked}
	links := rec.Refunds
	i := sort.Search(len(links), func(i int) bool { return links[i].RefundID >= r.RefundID })
	if i < len(links) && links[i] == link {
		return rec, nil
	}
	if i < len(links) && links[i].RefundID == r.RefundID {
		links = append([]RefundLink(nil), links...)
		links[i] = link
	} else {
		links = append(append(append([]RefundLink(nil), links[:i]...), link), links[i:]...)
	}
	next := rec
	next.Platform, next.OrderID, next.Refunds = r.Platform, r.OrderID, links
	if full {
		return next.refold(sc)
	}
	// Only the parts of the state that come from the links can change: the
	// messages' part is kept, and so are its facts, all emitted already.
	next.State.Platform, next.State.OrderID = next.Platform, next.OrderID
	next.State.withRefunds(links)
	facts, emitted := orderFacts(&next.State, next.Emitted, false, sc)
	next.Emitted = emitted
	return next, facts
}

func (rec OrderRecord) refold(sc *scratch) (OrderRecord, []Fact) {
	rec.State = rec.foldState()
	facts, emitted := orderFacts(&rec.State, rec.Emitted, true, sc)
	rec.Emitted = emitted
	return rec, facts
}

// foldState folds the order's messages and refund links into its state.
func (rec OrderRecord) foldState() Order {
	var buf [8]*OrderSnapshot // most orders have a few messages: no allocation
	ordered := buf[:0]
	if len(rec.Messages) > len(buf) {
		ordered = make([]*OrderSnapshot, 0, len(rec.Messages))
	}
	for i := range rec.Messages {
		ordered = append(ordered, &rec.Messages[i])
	}
	slices.SortFunc(ordered, func(a, b *OrderSnapshot) int {
		if a.PushedAt != b.PushedAt {
			return cmp.Compare(a.PushedAt, b.PushedAt)
		}
		if ra, rb := typeRank[a.Type], typeRank[b.Type]; ra != rb {
			return cmp.Compare(ra, rb)
		}
		return strings.Compare(a.Digest, b.Digest)
	})
	st := Order{Platform: rec.Platform, OrderID: rec.OrderID, Refunds: rec.Refunds}
	var prev OrderTotals // the totals after the messages before m
	known := false       // whether prev holds any
	// status is the status after the messages before m: the newest stated,
	// also by a message that states no totals (before any totals are known,
	// prev holds none).
	status := ""
	totalsStated := false
	for _, m := range ordered {
		totalsStated = totalsStated || m.Msg.HasTotals
		t := OrderTotals{
			Type: m.Type, Status: m.Msg.Status, PayStatus: m.Msg.PayStatus,
			TotalAmount: m.Msg.TotalAmount, ShippingFee: m.Msg.ShippingFee, ProductAmount: m.Msg.ProductAmount,
			At: Time(m.PushedAt),
		}
		if !m.Msg.HasTotals && known {
			t.TotalAmount, t.ShippingFee, t.ProductAmount = prev.TotalAmount, prev.ShippingFee, prev.ProductAmount
		}
		if t.Status == "" {
			t.Status = status
		}
		if m.Msg.OrderNo != "" {
			st.OrderNo = m.Msg.OrderNo
		}
		if m.Type == proto.TypeOrderPaid || m.Msg.PayStatus == 2 || m.Msg.PaidAt != 0 {
			st.Paid = true
		}
		if t.Status != "" && t.Status != status {
			if st.StatusHistory == nil {
				st.StatusHistory = make([]OrderTotals, 0, len(ordered))
			}
			st.StatusHistory = append(st.StatusHistory, t)
		}
		status = t.Status
		if !m.Msg.HasTotals && !known {
			continue // no totals known yet
		}
		if !known || t.TotalAmount != prev.TotalAmount || t.ShippingFee != prev.ShippingFee || t.ProductAmount != prev.ProductAmount {
			pc := PriceChange{OrderTotals: t}
			if known {
				pc.DiffTotal = t.TotalAmount - prev.TotalAmount
				pc.DiffShipping = t.ShippingFee - prev.ShippingFee
				pc.DiffProduct = t.ProductAmount - prev.ProductAmount
			}
			if st.PriceHistory == nil {
				st.PriceHistory = make([]PriceChange, 0, len(ordered))
			}
			st.PriceHistory = append(st.PriceHistory, pc)
		}
		prev, known = t, true
	}
	if known {
		st.Current = &prev
		if st.Paid && totalsStated {
			st.PaidTotal, st.PaidTotalKnown = prev.TotalAmount, true
		}
	}
	st.withRefunds(rec.Refunds)
	return st
}

// withRefunds sets the parts of the state that come from the refund links:
// the links, the refunded total and the anomalies (all of which are about
// the refunded total).
func (st *Order) withRefunds(links []RefundLink) {
	st.Refunds, st.RefundedTotal, st.Anomalies = links, 0, nil
	for _, l := range links {
		st.RefundedTotal += l.Booked
	}
	if st.Paid && st.PaidTotalKnown && st.RefundedTotal > st.PaidTotal {
		st.Anomalies = []Anomaly{{
			Code:   AnomalyOverRefund,
			Detail: fmt.Sprintf("refunded %d fen exceeds the paid total %d fen", st.RefundedTotal, st.PaidTotal),
		}}
	}
}

// orderFacts derives the facts of the order's state and returns those whose
// ids are not in emitted, with the new emitted list (see factSet). With
// messages false it derives only the anomalies' facts, for a state whose
// messages' part has not changed since its facts were emitted.
func orderFacts(st *Order, emitted []string, messages bool, sc *scratch) ([]Fact, []string) {
	base := Fact{Platform: st.Platform, OrderID: st.OrderID}
	prefix := string(st.Platform) + "/order/" + st.OrderID + "/"
	fs := newFactSet(emitted, len(st.StatusHistory)+len(st.PriceHistory)+len(st.Anomalies), sc)
	if messages {
		statusAndPriceFacts(&fs, st, base, prefix)
	}
	for i := range st.Anomalies {
		if fs.start(prefix).str("anomaly/").str(st.Anomalies[i].Code).novel() {
			a := st.Anomalies[i]
			f := base
			f.Kind, f.Anomaly = FactAnomaly, &a
			fs.keep(f)
		}
	}
	return fs.result()
}

// statusAndPriceFacts offers fs the facts of the order's status and price
// history. Each fact points at its own copy of what it states, made only for
// a fact not emitted before.
//
// Status and price facts are named by value and occurrence (the k-th time the
// order had that status, or those totals), not by the message that showed
// it: a message arriving late can only split a run of equal values, never
// merge two, so every id ever emitted is one that the complete history has,
// and the set of facts does not depend on the order of arrival. Except when
// a message already folded moves: a delivery of it with an earlier push time
// (the original arriving after its retry, or a first push time after
// deliveries that had none) takes it out of its place, which can merge two
// runs (X Y X becomes Y X), and an id emitted before (X's second) is then
// not in the complete history. No id is emitted twice either way.
func statusAndPriceFacts(fs *factSet, st *Order, base Fact, prefix string) {
	seen := map[string]int64{}
	for i := range st.StatusHistory {
		c := &st.StatusHistory[i]
		seen[c.Status]++
		if fs.start(prefix).str("status/").str(c.Status).str("/").int(seen[c.Status]).novel() {
			cp := *c
			f := base
			f.Kind, f.At, f.Status, f.Order = FactOrderStatus, c.At, c.Status, &cp
			fs.keep(f)
		}
	}
	prices := map[[3]int64]int64{}
	for i := range st.PriceHistory {
		p := &st.PriceHistory[i].OrderTotals
		key := [3]int64{p.TotalAmount, p.ShippingFee, p.ProductAmount}
		prices[key]++
		if fs.start(prefix).str("price/").int(p.TotalAmount).str("/").int(p.ShippingFee).str("/").
			int(p.ProductAmount).str("/").int(prices[key]).novel() {
			cp := *p
			f := base
			f.Kind, f.At, f.Status, f.Order = FactOrderPrice, p.At, p.Status, &cp
			if i == 0 {
				f.Kind = FactOrderPriceSet
			}
			fs.keep(f)
		}
	}
}
