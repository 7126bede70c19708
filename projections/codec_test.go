package projections

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"testing"

	"refundledger/ledger"
	"refundledger/ledger/simulate"
	"refundledger/proto"
)

// fill sets every field reachable from v to a random non-zero value, lists
// to one to three elements, so that a field the codec forgets shows up.
func fill(r *rand.Rand, v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(string(rune('a'+r.IntN(26))) + "é€" + string(rune('0'+r.IntN(10))))
	case reflect.Int, reflect.Int64:
		v.SetInt(r.Int64N(1<<62) - 1<<61 | 1)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Slice:
		n := 1 + r.IntN(3)
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			fill(r, s.Index(i))
		}
		v.Set(s)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).Name == "State" {
				continue // derived, not stored
			}
			fill(r, v.Field(i))
		}
	}
}

func TestCodecKeepsEveryField(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for range 50 {
		var rec ledger.RefundRecord
		fill(r, reflect.ValueOf(&rec).Elem())
		// Some snapshots share operations, one of them with other content.
		if len(rec.Snapshots) > 1 {
			s0, s1 := &rec.Snapshots[0].Refund, &rec.Snapshots[1].Refund
			s1.Operations = append(s1.Operations, s0.Operations...)
			changed := s0.Operations[0]
			changed.Remark += "!"
			s1.Operations = append(s1.Operations, changed)
		}
		for _, enc := range []func([]byte, *ledger.RefundRecord) []byte{encodeRefund, encodeRefundV1} {
			got, err := decodeRefund(enc(nil, &rec))
			if err != nil {
				t.Fatal(err)
			}
			got.State = ledger.Refund{}
			if !reflect.DeepEqual(got, rec) {
				t.Fatalf("refund record changed in the round trip:\n got %+v\nwant %+v", got, rec)
			}
		}
		var f ledger.Fact
		fill(r, reflect.ValueOf(&f).Elem())
		f.Transition, f.Posting, f.Anomaly, f.Order = &ledger.Transition{}, &ledger.Posting{}, &ledger.Anomaly{}, &ledger.OrderTotals{}
		for _, p := range []any{f.Transition, f.Posting, f.Anomaly, f.Order} {
			fill(r, reflect.ValueOf(p).Elem())
		}
		gotFact, err := decodeFact(encodeFact(nil, &f))
		if err != nil || !reflect.DeepEqual(gotFact, f) {
			t.Fatalf("fact changed in the round trip (%v):\n got %+v\nwant %+v", err, gotFact, f)
		}
		// A callback's facts: this one, one with no optional part, this one again.
		var list factList
		list.add(&f)
		list.add(&ledger.Fact{ID: "bare"})
		list.add(&f)
		gotFacts, err := decodeFacts(list.appendTo([]byte{}))
		if want := []ledger.Fact{f, {ID: "bare"}, f}; err != nil || !reflect.DeepEqual(gotFacts, want) {
			t.Fatalf("facts changed in the round trip (%v):\n got %+v\nwant %+v", err, gotFacts, want)
		}
		var dv Delivery
		fill(r, reflect.ValueOf(&dv).Elem())
		dv.Seq = r.Uint64()
		if got, err := decodeDelivery(encodeDelivery(nil, &dv)); err != nil || got != dv {
			t.Fatalf("delivery changed in the round trip (%v): %+v, want %+v", err, got, dv)
		}
		var ord ledger.OrderRecord
		fill(r, reflect.ValueOf(&ord).Elem())
		gotOrd, err := decodeOrder(encodeOrder(nil, &ord))
		if err != nil {
			t.Fatal(err)
		}
		gotOrd.State = ledger.Order{}
		if !reflect.DeepEqual(gotOrd, ord) {
			t.Fatalf("order record changed in the round trip:\n got %+v\nwant %+v", gotOrd, ord)
		}
	}
}

func TestCodecRestoresFoldedState(t *testing.T) {
	refunds := map[string]ledger.RefundRecord{}
	orders := map[string]ledger.OrderRecord{}
	for i, c := range simulate.Generate(simulate.Options{Seed: 3, Orders: 60, DupRate: 0.1, RetryRate: 0.1, Shuffle: true}) {
		cb, err := proto.DecodeCallback(c.Body)
		if err != nil || cb.BodyErr != nil {
			t.Fatal(err, cb.BodyErr)
		}
		d := ledger.Delivery{Seq: uint64(i + 1), PushedAt: cb.PushedAt}
		switch {
		case cb.Refund != nil:
			rec, _ := ledger.ApplyRefund(refunds[cb.Refund.RefundID], cb.Platform, *cb.Refund, d)
			refunds[cb.Refund.RefundID] = rec
			o, _ := ledger.LinkRefund(orders[rec.State.OrderID], rec.State)
			orders[rec.State.OrderID] = o
		case cb.Order != nil:
			o, _ := ledger.ApplyOrder(orders[cb.Order.OrderID], cb.Platform, cb.Type, *cb.Order, d)
			orders[cb.Order.OrderID] = o
		}
	}
	var v1, v2 int
	for id, rec := range refunds {
		for _, enc := range []func([]byte, *ledger.RefundRecord) []byte{encodeRefund, encodeRefundV1} {
			b := enc(nil, &rec)
			got, err := decodeRefund(b)
			if err != nil || !reflect.DeepEqual(got, rec) {
				t.Fatalf("refund %s: %v\n got %+v\nwant %+v", id, err, got.State, rec.State)
			}
		}
		v1 += len(encodeRefundV1(nil, &rec))
		v2 += len(encodeRefund(nil, &rec))
	}
	t.Logf("refund records: v1 %d bytes, v2 %d bytes", v1, v2)
	if v2 >= v1 {
		t.Errorf("format v2 (%d bytes) is not smaller than v1 (%d bytes)", v2, v1)
	}
	for id, rec := range orders {
		got, err := decodeOrder(encodeOrder(nil, &rec))
		if err != nil || !reflect.DeepEqual(got, rec) {
			t.Fatalf("order %s: %v\n got %+v\nwant %+v", id, err, got.State, rec.State)
		}
	}
}

// FuzzDecodeRecord: stored bytes that are corrupt give errCorrupt, never a
// panic or an unbounded allocation.
func FuzzDecodeRecord(f *testing.F) {
	rec := ledger.RefundRecord{Platform: "1688", RefundID: "TQ1", Emitted: []string{"a"},
		Snapshots: []ledger.Snapshot{{Digest: "d", Refund: proto.RefundSnapshot{RefundID: "TQ1", Status: "refundsuccess",
			Operations: []proto.Operation{{ID: "1", At: 1}}}}}}
	f.Add(encodeRefund(nil, &rec))
	f.Add(encodeRefundV1(nil, &rec))
	f.Add([]byte{formatRefundV2, 0, 0, 1, 0, 2, 0})
	ord := ledger.OrderRecord{Platform: "1688", OrderID: "1", Refunds: []ledger.RefundLink{{RefundID: "TQ1"}}}
	f.Add(encodeOrder(nil, &ord))
	f.Add([]byte{formatRefundV1, 0xff, 0xff, 0xff, 0xff, 0x0f})
	fact := ledger.Fact{ID: "x", Posting: &ledger.Posting{ID: "p"}}
	f.Add(encodeFact(nil, &fact))
	var facts factList
	facts.add(&fact)
	facts.add(&ledger.Fact{ID: "y", Anomaly: &ledger.Anomaly{Code: "c"}})
	f.Add(facts.appendTo(nil))
	f.Add(encodeDelivery(nil, &Delivery{Duplicate: true}))
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := decodeRefund(b); err != nil && !errors.Is(err, errCorrupt) {
			t.Fatalf("refund: %v", err)
		}
		if _, err := decodeOrder(b); err != nil && !errors.Is(err, errCorrupt) {
			t.Fatalf("order: %v", err)
		}
		if _, err := decodeFact(b); err != nil && !errors.Is(err, errCorrupt) {
			t.Fatalf("fact: %v", err)
		}
		if _, err := decodeFacts(b); err != nil && !errors.Is(err, errCorrupt) {
			t.Fatalf("facts: %v", err)
		}
		if _, err := decodeDelivery(b); err != nil && !errors.Is(err, errCorrupt) {
			t.Fatalf("delivery: %v", err)
		}
	})
}

// encodeRefundV1 is the writer of format v1, which records written before v2
// still use: the reader must keep reading them.
func encodeRefundV1(buf []byte, rec *ledger.RefundRecord) []byte {
	e := encoder{b: append(buf, formatRefundV1)}
	e.str(string(rec.Platform))
	e.str(rec.RefundID)
	e.uint(uint64(len(rec.Snapshots)))
	for i := range rec.Snapshots {
		s := &rec.Snapshots[i]
		e.str(s.Digest)
		e.int(s.PushedAt)
		r := &s.Refund
		e.str(r.RefundID)
		e.str(r.ID)
		e.str(r.OrderID)
		e.str(r.Status)
		for _, v := range []int64{r.ApplyPayment, r.ApplyCarriage, r.RefundPayment, r.RefundCarriage,
			r.DisputeType, r.DisputeRequest, r.GoodsStatus, r.CreatedAt, r.ModifiedAt, r.CompletedAt} {
			e.int(v)
		}
		e.bool(r.OnlyRefund)
		e.bool(r.RefundGoods)
		e.uint(uint64(len(r.Operations)))
		for j := range r.Operations {
			o := &r.Operations[j]
			e.str(o.ID)
			e.int(o.At)
			e.int(o.Type)
			e.str(o.Remark)
			e.str(o.Description)
			e.int(o.Role)
			e.int(o.MsgType)
			e.str(o.Before)
			e.str(o.After)
		}
	}
	e.uint(uint64(len(rec.Postings)))
	for _, p := range rec.Postings {
		e.str(p.ID)
		e.str(p.Kind)
		e.int(p.Goods)
		e.int(p.Carriage)
		e.int(p.Amount)
		e.int(int64(p.At))
	}
	e.strs(rec.Emitted)
	return e.b
}
