package ledger_test

import (
	"encoding/json"
	"os"
	"reflect"
	"sort"

	"refundledger/ledger"
	"refundledger/proto"
)

// tb is what the helpers need of *testing.T, *testing.B and *rapid.T.
type tb interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

// book is a miniature projection: it folds raw callbacks into records the way
// projections/ does (decode, apply, link the refund to its order) and keeps
// every fact emitted.
type book struct {
	refunds map[string]*ledger.RefundRecord
	orders  map[string]*ledger.OrderRecord
	facts   []ledger.Fact
	// folder, when set, folds instead of the package's functions.
	folder *ledger.Folder
}

func newBook() *book {
	return &book{refunds: map[string]*ledger.RefundRecord{}, orders: map[string]*ledger.OrderRecord{}}
}

// apply folds one callback; it fails the test when the callback cannot be
// decoded.
func (b *book) apply(t tb, raw []byte) []ledger.Fact {
	t.Helper()
	c, err := proto.DecodeCallback(raw)
	if err != nil {
		t.Fatalf("decode callback: %v", err)
	}
	if c.BodyErr != nil {
		t.Fatalf("decode body: %v", c.BodyErr)
	}
	d := ledger.Delivery{PushedAt: c.PushedAt, RetryCount: c.RetryCount, MessageID: c.ID}
	var facts []ledger.Fact
	switch {
	case c.Refund != nil:
		rec := b.refund(c.Platform, c.Refund.RefundID)
		applyRefund, linkRefund := ledger.ApplyRefund, ledger.LinkRefund
		if b.folder != nil {
			applyRefund, linkRefund = b.folder.ApplyRefund, b.folder.LinkRefund
		}
		next, fs := applyRefund(*rec, c.Platform, *c.Refund, d)
		*rec = next
		facts = append(facts, fs...)
		if next.State.OrderID != "" {
			orec := b.order(c.Platform, next.State.OrderID)
			onext, ofs := linkRefund(*orec, next.State)
			// LinkRefund refolds only the links' part of the order: its
			// state, facts and emitted ids must equal a full refold's.
			full, ffs := ledger.LinkRefundFull(*orec, next.State)
			if !reflect.DeepEqual(onext, full) || !reflect.DeepEqual(ofs, ffs) {
				t.Fatalf("order %s after LinkRefund:\n got %+v\n     %+v\nwant %+v\n     %+v (a full refold)", onext.OrderID, onext, ofs, full, ffs)
			}
			*orec = onext
			facts = append(facts, ofs...)
		}
	case c.Order != nil:
		orec := b.order(c.Platform, c.Order.OrderID)
		applyOrder := ledger.ApplyOrder
		if b.folder != nil {
			applyOrder = b.folder.ApplyOrder
		}
		next, fs := applyOrder(*orec, c.Platform, c.Type, *c.Order, d)
		*orec = next
		facts = append(facts, fs...)
	default:
		t.Fatalf("callback of type %q folds to nothing", c.Type)
	}
	b.facts = append(b.facts, facts...)
	return facts
}

func (b *book) refund(p proto.Platform, id string) *ledger.RefundRecord {
	k := string(p) + "/" + id
	if b.refunds[k] == nil {
		b.refunds[k] = &ledger.RefundRecord{}
	}
	return b.refunds[k]
}

func (b *book) order(p proto.Platform, id string) *ledger.OrderRecord {
	k := string(p) + "/" + id
	if b.orders[k] == nil {
		b.orders[k] = &ledger.OrderRecord{}
	}
	return b.orders[k]
}

// keys returns m's keys, sorted.
func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func mustJSON(t tb, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mustRead(t tb, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
