package projections

import (
	"runtime"
	"slices"
	"sync"

	"refundledger/ledger"
	"refundledger/proto"
)

// What a decoded message is.
const (
	kindUnknown    = iota // a stored callback of a type this version does not fold
	kindRefund            // a refund snapshot (1688, or Taobao as far as known)
	kindOrder             // a flat order message
	kindQuarantine        // cannot be folded; reason says why
)

// decoded is a message after decoding and before folding. Decoding is pure
// and the costly part of a fold, so messages are decoded in parallel and
// folded in stream order.
type decoded struct {
	Message
	kind     int
	reason   string
	env      proto.Envelope
	refund   *proto.RefundSnapshot // set when kind is kindRefund
	order    *proto.OrderMessage   // set when kind is kindOrder
	delivery ledger.Delivery
}

// decode reads one stored callback in one pass. It never fails: what cannot
// be read is kindQuarantine with the reason.
func decode(m Message) decoded {
	d := decoded{Message: m}
	if reason := m.Header.Get(proto.HeaderQuarantine); reason != "" {
		d.kind, d.reason = kindQuarantine, "ingest: "+reason
		return d
	}
	cb, err := proto.DecodeCallback(m.Data)
	if err != nil {
		d.kind, d.reason = kindQuarantine, err.Error()
		return d
	}
	d.env, d.delivery = cb.Envelope, m.delivery(cb.Envelope)
	switch {
	case cb.BodyErr != nil:
		d.kind, d.reason = kindQuarantine, cb.BodyErr.Error()
	case cb.Refund != nil:
		d.kind, d.refund = kindRefund, cb.Refund
	case cb.Order != nil:
		d.kind, d.order = kindOrder, cb.Order
	default:
		d.kind = kindUnknown
	}
	return d
}

// decodeAll decodes msgs on every core and returns them in the same order,
// in the memory of into when it is large enough (into's contents are
// overwritten; nil allocates).
func decodeAll(msgs []Message, into []decoded) []decoded {
	out := slices.Grow(into[:0], len(msgs))[:len(msgs)]
	workers := min(runtime.GOMAXPROCS(0), (len(msgs)+63)/64)
	if workers <= 1 {
		for i, m := range msgs {
			out[i] = decode(m)
		}
		return out
	}
	var wg sync.WaitGroup
	chunk := (len(msgs) + workers - 1) / workers
	for lo := 0; lo < len(msgs); lo += chunk {
		hi := min(lo+chunk, len(msgs))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				out[i] = decode(msgs[i])
			}
		}()
	}
	wg.Wait()
	return out
}
