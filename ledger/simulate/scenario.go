package simulate

import (
	"math/rand/v2"
	"strconv"

	"refundledger/proto"
)

// Scenario is one order with its refunds: every message Xportcn sends for it,
// once each and in the order they are first pushed, and the truth they fold
// to.
type Scenario struct {
	Order    OrderTruth
	Refunds  []RefundTruth
	Messages []Message
}

// Message is one message as Xportcn first pushes it. Retries and duplicates
// of it (see Each) carry the same id, type, push time and body; only
// retryCount differs.
type Message struct {
	Type      string         // normalized message type
	Platform  proto.Platform // always 1688 for now
	OrderID   string
	RefundID  string // "" for order messages
	MessageID string // the envelope id, stable across retries
	PushedAt  int64  // envelope timestamp, epoch ms
	Body      []byte // messageBody as a JSON object

	rawType      string // messageType as sent (sometimes prefixed)
	bodyAsString bool   // messageBody sent as a JSON-encoded string
	platformStr  bool   // messagePlatform sent as "1"
	noTimestamp  bool   // the envelope omits timestamp (as the seed does)
}

// RefundTruth is what a refund must fold to once all its messages arrived.
type RefundTruth struct {
	Platform   proto.Platform
	RefundID   string
	OrderID    string
	Lifecycle  string
	Status     string // final 1688 status
	Booked     int64  // fen: refundPayment + refundCarriage on success, else 0
	Operations int    // distinct operations
}

// OrderTruth is what an order must fold to once all its messages arrived.
type OrderTruth struct {
	Platform    proto.Platform
	OrderID     string
	Status      string // the last order message's orderStatus
	TotalAmount int64  // fen, current
	ShippingFee int64  // fen, current
	Paid        bool
	Refunded    int64 // fen, sum of the refunds' Booked
}

// Base identifiers: 19-digit order ids and 18-digit refund ids, beyond 2^53,
// starting with 9 so that simulated traffic never collides with the real
// fixtures' ids (testdata/xportcn) in one ledger.
const (
	orderIDBase  = 9105075341149134260
	refundIDBase = 912969441872889407
	opIDBase     = 9138611344933
	developID    = "1023561483696472885"
)

// NewScenario builds order i (0-based) of a simulation. It depends only on
// opts.Seed, opts.Now, opts.Lifecycles and i.
func NewScenario(opts Options, i int) Scenario {
	r := rand.New(rand.NewPCG(opts.Seed, uint64(i)))
	g := &gen{r: r, opts: opts, i: i}
	return g.scenario()
}

// seedOffset shifts every id by the seed, so that traffic generated with
// seeds that differ modulo 1000 never shares an order, refund, operation or
// message id (two runs of `refundledger gen` against one ledger stay apart).
func (g *gen) seedOffset() uint64 { return g.opts.Seed % 1000 }

type gen struct {
	r    *rand.Rand
	opts Options
	i    int
	msgs []Message
}

func (g *gen) scenario() Scenario {
	r := g.r
	orderID := strconv.FormatUint(orderIDBase+g.seedOffset()*1e12+uint64(g.i)*7919, 10)
	t := g.opts.now() + int64(g.i)*60_000 + int64(r.IntN(60))*1000
	product := int64(1000 + r.IntN(50_000)) // fen
	shipping := int64(r.IntN(4)) * 500
	sc := Scenario{Order: OrderTruth{Platform: proto.Platform1688, OrderID: orderID}}

	status := "WAITING_FOR_PAYMENT"
	g.order(proto.TypeOrderCreate, orderID, status, 1, product, shipping, t)
	for n := r.IntN(3); n > 0 && r.IntN(10) < 5; n-- { // price corrections before payment
		t += int64(1+r.IntN(600)) * 1000
		product -= product * int64(1+r.IntN(20)) / 100
		g.order(proto.TypePriceModify, orderID, status, 1, product, shipping, t)
	}
	sc.Order.TotalAmount, sc.Order.ShippingFee = product+shipping, shipping
	if r.IntN(10) == 0 { // cancelled before payment: no refunds
		t += int64(1+r.IntN(3600)) * 1000
		sc.Order.Status = "CANCEL"
		g.order(proto.TypeOrderCancel, orderID, sc.Order.Status, 1, product, shipping, t)
		sc.Messages = g.msgs
		return sc
	}
	t += int64(1+r.IntN(600)) * 1000
	sc.Order.Status, sc.Order.Paid = "WAITING_FOR_SENT", true
	g.order(proto.TypeOrderPaid, orderID, sc.Order.Status, 2, product, shipping, t)

	n := []int{0, 1, 1, 1, 1, 1, 2, 2, 3}[r.IntN(9)]
	goodsLeft, carriageLeft := product, shipping
	for k := 0; k < n && goodsLeft > 0; k++ {
		goods := goodsLeft
		if k < n-1 || r.IntN(3) == 0 { // partial refund
			goods = 1 + r.Int64N(goodsLeft)
		}
		carriage := int64(0)
		if carriageLeft > 0 && r.IntN(2) == 0 {
			carriage = carriageLeft
		}
		truth := g.refund(orderID, k, goods, carriage, t+int64(1+r.IntN(72*3600))*1000)
		if truth.Booked > 0 {
			goodsLeft -= goods
			carriageLeft -= carriage
		}
		sc.Order.Refunded += truth.Booked
		sc.Refunds = append(sc.Refunds, truth)
	}
	sc.Messages = g.msgs
	return sc
}

// envelopeStyle draws how one message is rendered.
func (g *gen) message(typ, orderID, refundID string, at int64, body []byte, timestampOptional bool) {
	r := g.r
	m := Message{
		Type: typ, Platform: proto.Platform1688, OrderID: orderID, RefundID: refundID,
		MessageID: strconv.FormatUint(g.seedOffset()*1e9+uint64(g.i*100+len(g.msgs)+1), 10),
		PushedAt:  at + int64(r.IntN(1000)), // under the 1 s gap between events: push order is event order
		Body:      body,
		rawType:   typ,
	}
	if r.IntN(5) == 0 {
		m.rawType = "1688_" + typ
	}
	m.bodyAsString = r.IntN(3) == 0
	m.platformStr = r.IntN(5) == 0
	m.noTimestamp = timestampOptional && r.IntN(5) == 0
	g.msgs = append(g.msgs, m)
}

// order emits one flat order message (sometimes a price message in 1688's
// order-detail form, with yuan decimals).
func (g *gen) order(typ, orderID, status string, payStatus, product, shipping, at int64) {
	var body []byte
	if typ == proto.TypePriceModify && g.r.IntN(4) == 0 {
		base := newObj(nil).num("id", orderID).str("status", "waitbuyerpay").
			str("totalAmount", yuan(product+shipping)).raw("shippingFee", []byte(yuan(shipping))).
			int("discount", 0).str("sumProductPayment", yuan(product)).
			time("createTime", at, time1688).end()
		body = newObj(nil).raw("baseInfo", base).raw("productItems", []byte(`[]`)).end()
		// The detail form carries 1688's native status; the order's status
		// history keeps it (REFUNDS.md 6: keep the native value).
		g.message(typ, orderID, "", at, body, false)
		return
	}
	o := newObj(nil).str("orderId", orderID).str("orderNo", "PO"+orderID[len(orderID)-10:]).
		str("orderStatus", status).int("payStatus", payStatus).
		int("totalAmount", product+shipping).int("shippingFee", shipping).int("productAmount", product).
		int("refundAmount", 0).null("refundStatus")
	if typ == proto.TypeOrderCancel {
		o.str("closeReason", "buyer_cancel")
	} else {
		o.null("closeReason")
	}
	form := g.r.IntN(timeForms)
	o.time("tbCreateTime", at, form)
	if payStatus == 2 {
		o.time("payTime", at, form)
	} else {
		o.null("payTime")
	}
	g.message(typ, orderID, "", at, o.end(), false)
}

// yuan renders fen as a yuan decimal with two places.
func yuan(fen int64) string {
	s := strconv.FormatInt(fen/100, 10) + "."
	c := fen % 100
	return s + string(rune('0'+c/10)) + string(rune('0'+c%10))
}
