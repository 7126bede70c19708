package simulate

import (
	"bufio"
	"cmp"
	"io"
	"math/rand/v2"
	"slices"
	"strconv"

	"refundledger/proto"
)

// Callback is one HTTP delivery of a message: the exact bytes Xportcn POSTs,
// and what the simulator knows about them.
type Callback struct {
	Body       []byte // the full envelope JSON, one line
	Type       string // normalized message type
	Platform   proto.Platform
	OrderID    string
	RefundID   string // "" for order messages
	MessageID  string
	RetryCount int
	PushedAt   int64 // envelope timestamp (also when the envelope omits it), epoch ms
	DeliverAt  int64 // when this copy arrives, epoch ms (retries come 30 minutes apart)
}

// Each calls fn for every delivery of a simulation, in delivery order, and
// stops at the first error fn returns (which it returns). Orders are
// generated Window at a time, so memory stays bounded for any opts.Orders.
// The sequence is a pure function of opts.
func Each(opts Options, fn func(Callback) error) error {
	for w := 0; w*Window < opts.Orders; w++ {
		r := rand.New(rand.NewPCG(opts.Seed^0x5deece66d, uint64(w)))
		var batch []Callback
		for i := w * Window; i < min((w+1)*Window, opts.Orders); i++ {
			for _, m := range NewScenario(opts, i).Messages {
				batch = deliveries(batch, r, opts, m)
			}
		}
		if opts.Shuffle {
			r.Shuffle(len(batch), func(i, j int) { batch[i], batch[j] = batch[j], batch[i] })
		} else {
			slices.SortStableFunc(batch, func(a, b Callback) int { return cmp.Compare(a.DeliverAt, b.DeliverAt) })
		}
		for _, c := range batch {
			if err := fn(c); err != nil {
				return err
			}
		}
	}
	return nil
}

// Generate returns every delivery of a simulation, in delivery order: the
// sequence Each produces.
func Generate(opts Options) []Callback {
	var out []Callback
	_ = Each(opts, func(c Callback) error { out = append(out, c); return nil }) // fn never fails
	return out
}

// Truth returns what every refund and order of a simulation must fold to
// once all their messages arrived (in any order, with any repetition).
func Truth(opts Options) ([]RefundTruth, []OrderTruth) {
	var refunds []RefundTruth
	var orders []OrderTruth
	for i := 0; i < opts.Orders; i++ {
		sc := NewScenario(opts, i)
		refunds = append(refunds, sc.Refunds...)
		orders = append(orders, sc.Order)
	}
	return refunds, orders
}

// WriteJSONL writes every delivery of a simulation to w, one envelope per
// line, in delivery order.
func WriteJSONL(w io.Writer, opts Options) error {
	bw := bufio.NewWriter(w)
	err := Each(opts, func(c Callback) error {
		if _, err := bw.Write(c.Body); err != nil {
			return err
		}
		return bw.WriteByte('\n')
	})
	if err != nil {
		return err
	}
	return bw.Flush()
}

// deliveries appends the copies of m that arrive: with probability RetryRate
// the first push fails and 1..5 retries follow (the last one arrives; a
// failed one arrives too when the failure was a timeout), then each arriving
// copy may be repeated with probability DupRate.
func deliveries(out []Callback, r *rand.Rand, opts Options, m Message) []Callback {
	retries := 0
	if r.Float64() < opts.RetryRate {
		retries = 1 + r.IntN(maxRetries)
	}
	for n := 0; n <= retries; n++ {
		if n < retries && r.IntN(2) == 0 {
			continue // this attempt never reached the endpoint
		}
		c := render(m, n)
		out = append(out, c)
		for r.Float64() < opts.DupRate {
			dup := c
			dup.DeliverAt += int64(r.IntN(5000))
			out = append(out, dup)
		}
	}
	return out
}

// render builds the envelope of attempt n (retryCount n) of m.
func render(m Message, n int) Callback {
	o := newObj(make([]byte, 0, len(m.Body)+256)).str("messageType", m.rawType)
	if m.bodyAsString {
		o.key("messageBody")
		o.b = appendString(o.b, string(m.Body))
	} else {
		o.raw("messageBody", m.Body)
	}
	if m.platformStr {
		o.str("messagePlatform", "1")
	} else {
		o.int("messagePlatform", 1)
	}
	if !m.noTimestamp {
		o.str("timestamp", strconv.FormatInt(m.PushedAt, 10))
	}
	o.int("retryCount", int64(n)).num("developId", developID).num("id", m.MessageID)
	return Callback{
		Body: o.end(), Type: m.Type, Platform: m.Platform, OrderID: m.OrderID, RefundID: m.RefundID,
		MessageID: m.MessageID, RetryCount: n, PushedAt: m.PushedAt,
		DeliverAt: m.PushedAt + int64(n)*retryDelay,
	}
}
