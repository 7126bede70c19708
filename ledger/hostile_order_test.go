package ledger_test

import (
	"cmp"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"refundledger/ledger"
	"refundledger/proto"
)

// The order counterpart of TestFoldConvergenceHostile: messages of one order
// that contradict each other as freely as the decoder lets them (equal push
// times with different totals or statuses, messages that state totals and
// messages that do not, a payment and a cancellation in either order, equal
// content under different message ids, retries pushed at other times, push
// times unknown), and refund states linked to the order, relinked with other
// amounts. Whatever they say, the order's state must depend on their set
// alone (REFUNDS.md 3.7 and 6), and its money must add up (REFUNDS.md 6).
//
// The exceptions honoured, and why:
//
//   - A refund link is the refund state linked last. LinkRefund "records the
//     current state of one of the order's refunds": relinking replaces the
//     link, so the links (and the refunded total and over_refund that come
//     from them) are those of the last call per refund, not of a set. The
//     projection links a refund's folded state after each of its snapshots,
//     and that state converges (TestFoldConvergenceHostile), so the refund's
//     last link is its converged state whatever the order of arrival. The
//     draws do the same: a refund's earlier links go anywhere, its final one
//     comes after them in every order of arrival.
//   - Order facts are compared by id, not content: a status or price fact
//     states what was known when it was emitted (the time of a status first
//     seen late, price_set for the first totals known), as the convergence
//     test says (isRefundFact). Their ids are those of the final state's
//     history (statusAndPriceFacts: a late message only splits a run of
//     equal values, never merges two), but see moves below.
//   - An over_refund anomaly fact can come from an earlier link that
//     exceeded the paid total, in one order of arrival only (a consequence
//     of the first exception): the test requires it when the final state has
//     the anomaly, and no other anomaly.
//   - A message moves when a delivery of it brings an earlier push time than
//     its deliveries before (the original after its retry, or a first push
//     time after deliveries that had none); a move can merge two runs of
//     equal values, so a status or price fact id emitted before it may be
//     missing from the final history (statusAndPriceFacts says so). Only in
//     an order of arrival without moves must every id emitted be the final
//     state's; in any order, every id of the final state is emitted, once.
//
// Nothing else may depend on the order of arrival: the message part of the
// state (status, totals, histories, paid) is a function of the set of
// distinct messages (type, message id, content), each at the earliest
// non-zero push time of its deliveries.

const hostileOrderID = "9001"

var (
	hostileOrderTypes    = []string{proto.TypeOrderCreate, proto.TypePriceModify, proto.TypeOrderPaid, proto.TypeOrderCancel}
	hostileOrderStatuses = []string{"", "WAITING_FOR_PAYMENT", "WAITING_FOR_SENT", "CANCEL", "waitbuyerpay", "success"}
	// typeRankOf is ApplyOrder's documented tie-break between messages pushed
	// at the same time: where the type stands in an order's life.
	typeRankOf = map[string]int{proto.TypeOrderCreate: 1, proto.TypePriceModify: 2, proto.TypeOrderPaid: 3, proto.TypeOrderCancel: 4}
)

// orderStep is one call on the order's record: a delivery of an order
// message, or the link of a refund's state.
type orderStep struct {
	typ string
	msg proto.OrderMessage
	d   ledger.Delivery

	link  *ledger.Refund
	final bool // the refund's last link: its converged state
}

func (s orderStep) String() string {
	if s.link != nil {
		return fmt.Sprintf("link %s status=%s booked=%d final=%v", s.link.RefundID, s.link.Status, s.link.Booked, s.final)
	}
	m := s.msg
	totals := "no totals"
	if m.HasTotals {
		totals = fmt.Sprintf("total=%d shipping=%d product=%d", m.TotalAmount, m.ShippingFee, m.ProductAmount)
	}
	return fmt.Sprintf("%s id=%q pushed=%d status=%q payStatus=%d paidAt=%d orderNo=%q %s",
		s.typ, s.d.MessageID, s.d.PushedAt, m.Status, m.PayStatus, m.PaidAt, m.OrderNo, totals)
}

// drawOrderMessage draws one order message: any type, any status (or none),
// totals stated or not, paid or not by each of the three signs of payment.
func drawOrderMessage(t *rapid.T) (string, proto.OrderMessage) {
	m := proto.OrderMessage{
		OrderID:   hostileOrderID,
		OrderNo:   rapid.SampledFrom([]string{"", "NO-1", "NO-2"}).Draw(t, "orderNo"),
		Form:      proto.OrderFormFlat,
		Status:    rapid.SampledFrom(hostileOrderStatuses).Draw(t, "status"),
		PayStatus: rapid.SampledFrom([]int64{0, 1, 2}).Draw(t, "payStatus"),
		PaidAt:    rapid.SampledFrom([]int64{0, 1_700_000_000_000}).Draw(t, "paidAt"),
		HasTotals: rapid.Bool().Draw(t, "hasTotals"),
	}
	if m.HasTotals {
		m.ShippingFee = rapid.SampledFrom([]int64{0, 100}).Draw(t, "shippingFee")
		m.ProductAmount = rapid.SampledFrom([]int64{0, 900, 1000, 1500}).Draw(t, "productAmount")
		m.TotalAmount = m.ProductAmount + m.ShippingFee
	}
	return rapid.SampledFrom(hostileOrderTypes).Draw(t, "type"), m
}

// drawOrderSteps draws the messages of one order, each delivered one to
// three times at push times that need not agree (0: unknown), and the links
// of up to three refunds, each linked one to three times, the last time
// with its final state.
func drawOrderSteps(t *rapid.T) []orderStep {
	var steps []orderStep
	var prev *orderStep
	for i := range rapid.IntRange(1, 6).Draw(t, "messages") {
		var typ string
		var msg proto.OrderMessage
		if prev != nil && rapid.Bool().Draw(t, "sameContent") {
			// A different message (its own message id) with the same content.
			typ, msg = prev.typ, prev.msg
		} else {
			typ, msg = drawOrderMessage(t)
		}
		id := "m" + strconv.Itoa(i)
		if rapid.IntRange(0, 4).Draw(t, "noMessageID") == 0 {
			id = ""
		}
		for range rapid.IntRange(1, 3).Draw(t, "pushes") {
			var pushed int64
			if at := rapid.IntRange(-1, 3).Draw(t, "pushed"); at >= 0 {
				pushed = 1_700_000_000_000 + 1000*int64(at)
			}
			steps = append(steps, orderStep{typ: typ, msg: msg, d: ledger.Delivery{PushedAt: pushed, MessageID: id}})
		}
		prev = &steps[len(steps)-1]
	}
	for r := range rapid.IntRange(0, 3).Draw(t, "refunds") {
		n := rapid.IntRange(1, 3).Draw(t, "links")
		for k := range n {
			booked := rapid.SampledFrom([]int64{0, 0, 400, 1000, 1600}).Draw(t, "booked")
			status := ledger.StatusSuccess
			if booked == 0 {
				status = rapid.SampledFrom([]string{ledger.StatusWaitSellerAgree, ledger.StatusWaitBuyerModify, ledger.StatusSuccess, ledger.StatusClosed}).Draw(t, "refundStatus")
			}
			steps = append(steps, orderStep{
				link: &ledger.Refund{
					Platform: proto.Platform1688, RefundID: "TQ" + strconv.Itoa(r+1), OrderID: hostileOrderID,
					Status: status, Phase: ledger.PhaseOf(status), Terminal: ledger.IsTerminal(status), Booked: booked,
				},
				final: k == n-1,
			})
		}
	}
	return steps
}

// arrival draws an order of arrival of steps with repetitions (any step
// again, anywhere), then puts each refund's final link after its others.
func arrival(t *rapid.T, steps []orderStep, label string) []orderStep {
	out := rapid.Permutation(steps).Draw(t, label)
	for _, i := range rapid.SliceOfN(rapid.IntRange(0, len(out)-1), 0, 6).Draw(t, label+"Repeats") {
		at := rapid.IntRange(0, len(out)).Draw(t, label+"RepeatAt")
		out = slices.Insert(out, at, out[i])
	}
	last := map[string]int{}
	for i, s := range out {
		if s.link != nil {
			last[s.link.RefundID] = i
		}
	}
	for i, s := range out {
		if s.link != nil && s.final {
			j := last[s.link.RefundID]
			out[i], out[j] = out[j], out[i]
		}
	}
	return out
}

// foldOrderSteps folds steps into one order record, with folder when it is
// not nil, checking after every step what must hold after any of them. It
// returns the record, the ids of the facts emitted, in order, and whether a
// message moved: a delivery came with an earlier push time than the
// message's deliveries before it (or the first known one).
func foldOrderSteps(t *rapid.T, folder *ledger.Folder, steps []orderStep) (ledger.OrderRecord, []string, bool) {
	var rec ledger.OrderRecord
	var ids []string
	seen := map[string]bool{}
	links := map[string]ledger.RefundLink{}
	pushed := map[string]int64{} // earliest non-zero push time of each message so far
	moved := false
	for n, s := range steps {
		if s.link == nil {
			k := s.typ + "|" + s.d.MessageID + "|" + mustJSON(t, s.msg)
			p, ok := pushed[k]
			if ok && s.d.PushedAt != 0 && (p == 0 || s.d.PushedAt < p) {
				moved = true
			}
			if !ok || p == 0 || (s.d.PushedAt != 0 && s.d.PushedAt < p) {
				pushed[k] = s.d.PushedAt
			}
		}
		var facts []ledger.Fact
		if s.link != nil {
			next, fs := ledger.LinkRefund(rec, *s.link)
			if folder != nil {
				next, fs = folder.LinkRefund(rec, *s.link)
			}
			// LinkRefund refolds only the links' part: it must equal a full
			// refold, facts included.
			if full, ffs := ledger.LinkRefundFull(rec, *s.link); !reflect.DeepEqual(next, full) || mustJSON(t, fs) != mustJSON(t, ffs) {
				t.Fatalf("step %d (%s): LinkRefund\n got %s\n     %s\nwant %s\n     %s (a full refold)",
					n, s, mustJSON(t, next), mustJSON(t, fs), mustJSON(t, full), mustJSON(t, ffs))
			}
			rec, facts = next, fs
			links[s.link.RefundID] = ledger.RefundLink{RefundID: s.link.RefundID, Status: s.link.Status, Phase: s.link.Phase, Booked: s.link.Booked}
		} else if folder != nil {
			rec, facts = folder.ApplyOrder(rec, proto.Platform1688, s.typ, s.msg, s.d)
		} else {
			rec, facts = ledger.ApplyOrder(rec, proto.Platform1688, s.typ, s.msg, s.d)
		}
		for _, f := range facts {
			if seen[f.ID] {
				t.Fatalf("step %d (%s): fact %s emitted twice", n, s, f.ID)
			}
			seen[f.ID] = true
			ids = append(ids, f.ID)
		}
		if got, want := rec.Emitted, sortedKeys(seen); !slices.Equal(got, want) {
			t.Fatalf("step %d (%s): emitted %v, the facts returned %v", n, s, got, want)
		}
		checkOrderMoney(t, rec.State, links)
		// A stored record, which keeps no state, restores to the same.
		stored := rec
		stored.State = ledger.Order{}
		if got, want := mustJSON(t, ledger.RestoreOrder(stored).State), mustJSON(t, rec.State); got != want {
			t.Fatalf("step %d (%s): restored state differs:\n got %s\nwant %s", n, s, got, want)
		}
	}
	return rec, ids, moved
}

// checkOrderMoney checks REFUNDS.md 6 on an order's state: its links are the
// refunds' states linked last, the refunded total is the sum of what they
// booked, and over_refund is recorded exactly when a known paid total is
// exceeded.
func checkOrderMoney(t *rapid.T, st ledger.Order, links map[string]ledger.RefundLink) {
	want := make([]ledger.RefundLink, 0, len(links))
	var sum int64
	for _, id := range sortedKeys(links) {
		want = append(want, links[id])
		sum += links[id].Booked
	}
	if len(st.Refunds) != len(want) || (len(want) > 0 && !slices.Equal(st.Refunds, want)) {
		t.Fatalf("links %+v, want the last linked %+v", st.Refunds, want)
	}
	if st.RefundedTotal != sum {
		t.Fatalf("refunded total %d, the links booked %d", st.RefundedTotal, sum)
	}
	var codes, wantCodes []string
	for _, a := range st.Anomalies {
		codes = append(codes, a.Code)
	}
	if st.Paid && st.PaidTotalKnown && sum > st.PaidTotal {
		wantCodes = []string{ledger.AnomalyOverRefund}
	}
	if !slices.Equal(codes, wantCodes) {
		t.Fatalf("refunded %d, paid=%v paid total %d known=%v: anomalies %v, want %v",
			sum, st.Paid, st.PaidTotal, st.PaidTotalKnown, codes, wantCodes)
	}
}

// checkOrderMessages checks the message part of a final state against what
// ApplyOrder documents, computed from the record's distinct messages: the
// newest message (push time, lifecycle rank, digest) that states totals
// decides the totals, the newest that states a status decides the status,
// the histories hold changes only, and the paid total is the current total
// of a paid order when some message stated totals. Each distinct message is
// kept once, at the earliest non-zero push time of its deliveries in steps.
func checkOrderMessages(t *rapid.T, rec ledger.OrderRecord, steps []orderStep) {
	earliest := map[string]int64{} // by type, message id and content
	for _, s := range steps {
		if s.link != nil {
			continue
		}
		k := s.typ + "|" + s.d.MessageID + "|" + mustJSON(t, s.msg)
		if p, ok := earliest[k]; !ok || p == 0 || (s.d.PushedAt != 0 && s.d.PushedAt < p) {
			earliest[k] = s.d.PushedAt
		}
	}
	// The record keeps no message id: compare, per type and content, the
	// push times of the messages kept with those expected.
	want, got := map[string][]int64{}, map[string][]int64{}
	for k, p := range earliest {
		typ, rest, _ := strings.Cut(k, "|")
		_, content, _ := strings.Cut(rest, "|")
		want[typ+"|"+content] = append(want[typ+"|"+content], p)
	}
	for _, m := range rec.Messages {
		k := m.Type + "|" + mustJSON(t, m.Msg)
		got[k] = append(got[k], m.PushedAt)
	}
	for _, m := range []map[string][]int64{want, got} {
		for _, v := range m {
			slices.Sort(v)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("messages kept at push times %v, want %v", got, want)
	}
	st := rec.State
	msgs := slices.Clone(rec.Messages)
	slices.SortFunc(msgs, func(a, b ledger.OrderSnapshot) int {
		return cmp.Or(cmp.Compare(a.PushedAt, b.PushedAt), cmp.Compare(typeRankOf[a.Type], typeRankOf[b.Type]), strings.Compare(a.Digest, b.Digest))
	})
	var paid, stated bool
	var totals proto.OrderMessage
	var status string
	for _, m := range msgs {
		paid = paid || m.Type == proto.TypeOrderPaid || m.Msg.PayStatus == 2 || m.Msg.PaidAt != 0
		if m.Msg.HasTotals {
			stated, totals = true, m.Msg
		}
		if m.Msg.Status != "" {
			status = m.Msg.Status
		}
	}
	if st.Paid != paid || st.PaidTotalKnown != (paid && stated) {
		t.Fatalf("paid=%v paidTotalKnown=%v, want %v %v", st.Paid, st.PaidTotalKnown, paid, paid && stated)
	}
	if !stated {
		if st.Current != nil || st.PriceHistory != nil {
			t.Fatalf("no message states totals, yet current %+v, price history %+v", st.Current, st.PriceHistory)
		}
	} else {
		c := st.Current
		if c == nil || c.TotalAmount != totals.TotalAmount || c.ShippingFee != totals.ShippingFee || c.ProductAmount != totals.ProductAmount {
			t.Fatalf("current totals %+v, want those of the newest message stating them %+v", c, totals)
		}
		if c.Status != status {
			t.Fatalf("current status %q, want the newest stated %q", c.Status, status)
		}
		if paid && st.PaidTotal != c.TotalAmount {
			t.Fatalf("paid total %d, current total %d", st.PaidTotal, c.TotalAmount)
		}
	}
	for i, s := range st.StatusHistory {
		if s.Status == "" || (i > 0 && s.Status == st.StatusHistory[i-1].Status) {
			t.Fatalf("status history %+v: entry %d is no change of status", st.StatusHistory, i)
		}
	}
	if h := st.StatusHistory; (len(h) > 0) != (status != "") || (len(h) > 0 && h[len(h)-1].Status != status) {
		t.Fatalf("status history %+v, want it to end with the newest status stated %q", h, status)
	}
	for i, p := range st.PriceHistory {
		var before ledger.OrderTotals
		if i > 0 {
			before = st.PriceHistory[i-1].OrderTotals
			if p.TotalAmount == before.TotalAmount && p.ShippingFee == before.ShippingFee && p.ProductAmount == before.ProductAmount {
				t.Fatalf("price history %+v: entry %d is no change", st.PriceHistory, i)
			}
		}
		if i == 0 {
			before = p.OrderTotals // the first totals known differ from nothing
		}
		if p.DiffTotal != p.TotalAmount-before.TotalAmount || p.DiffShipping != p.ShippingFee-before.ShippingFee ||
			p.DiffProduct != p.ProductAmount-before.ProductAmount {
			t.Fatalf("price history %+v: entry %d has the wrong difference", st.PriceHistory, i)
		}
	}
}

// orderFactIDs are the ids of the status and price facts of st's histories
// (statusAndPriceFacts), and of its anomalies.
func orderFactIDs(st ledger.Order) []string {
	prefix := string(st.Platform) + "/order/" + st.OrderID + "/"
	var ids []string
	statuses := map[string]int{}
	for _, s := range st.StatusHistory {
		statuses[s.Status]++
		ids = append(ids, fmt.Sprintf("%sstatus/%s/%d", prefix, s.Status, statuses[s.Status]))
	}
	prices := map[[3]int64]int{}
	for _, p := range st.PriceHistory {
		k := [3]int64{p.TotalAmount, p.ShippingFee, p.ProductAmount}
		prices[k]++
		ids = append(ids, fmt.Sprintf("%sprice/%d/%d/%d/%d", prefix, k[0], k[1], k[2], prices[k]))
	}
	for _, a := range st.Anomalies {
		ids = append(ids, prefix+"anomaly/"+a.Code)
	}
	slices.Sort(ids)
	return ids
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestHostileOrderConvergence(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		steps := drawOrderSteps(t)
		a := arrival(t, steps, "drawn")
		b := arrival(t, steps, "permuted")
		ra, ida, movedA := foldOrderSteps(t, nil, a)
		rb, idb, movedB := foldOrderSteps(t, nil, b)
		if got, want := mustJSON(t, rb.State), mustJSON(t, ra.State); got != want {
			t.Fatalf("order state depends on arrival order:\n got %s\nwant %s", got, want)
		}
		checkOrderMessages(t, ra, a)
		// Each fact id of the final state is emitted in either order. Unless a
		// message moved (see above), every status and price fact id emitted
		// is one of the final state's; an over_refund fact may come from an
		// earlier link.
		final := orderFactIDs(ra.State)
		for _, x := range []struct {
			order string
			ids   []string
			moved bool
		}{{"drawn", ida, movedA}, {"permuted", idb, movedB}} {
			for _, id := range x.ids {
				if !x.moved && !slices.Contains(final, id) && !strings.HasSuffix(id, "/anomaly/"+ledger.AnomalyOverRefund) {
					t.Fatalf("%s order: fact %s is not one of the final state's %v", x.order, id, final)
				}
			}
			for _, id := range final {
				if !slices.Contains(x.ids, id) {
					t.Fatalf("%s order: fact %s of the final state was never emitted (emitted %v)", x.order, id, x.ids)
				}
			}
		}
		// A Folder reused across calls folds as the plain functions do.
		var folder ledger.Folder
		rc, idc, _ := foldOrderSteps(t, &folder, b)
		if got, want := mustJSON(t, rc), mustJSON(t, rb); got != want {
			t.Fatalf("Folder differs from ApplyOrder and LinkRefund:\n got %s\nwant %s", got, want)
		}
		if !slices.Equal(idc, idb) {
			t.Fatalf("Folder emitted %v, the plain functions %v", idc, idb)
		}
	})
}
