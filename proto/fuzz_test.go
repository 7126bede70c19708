package proto_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"refundledger/proto"
)

// addSeeds adds every fixture, its body, and a few hostile inputs.
func addSeeds(f *testing.F, bodies bool) {
	for _, b := range fixtures(f) {
		f.Add(b)
		if env, err := proto.DecodeEnvelope(b); err == nil && bodies {
			f.Add(env.Body)
		}
	}
	for _, s := range []string{``, `{}`, `[`, `{"a":"\ud800"}`, `{"messageType":"X","messageBody":"{\"id\":1}"}`,
		`{"baseInfo":{"id":1,"totalAmount":"1.5"}}`, `{"refund":{"refund_id":"1","refund_fee":"0.01"}}`,
		`{"id":1,"refundOperationList":[{"id":2,"gmtCreate":"20180423171116000+0800"}]}`,
		`{"messageType":"T","messageBody":{"orderId":1},"messageBody":"{\"orderId\":2}"}`,
		`{"messageType":"T","messageBody":"{\"orderId\":2}","messageBody":{"salesOrderId":3}}`,
		`{"messageType":"T","messageBody":{"baseInfo":{"id":4},"orderId":[1,}}`,
		`{"messageBody":{"baseInfo":{"id":"5"}},"retryCount":"x","messageType":"T"}`} {
		f.Add([]byte(s))
	}
}

// FuzzDecodeEnvelope: never panics; accepts exactly the JSON documents that
// encoding/json accepts as valid (ErrNotJSON otherwise); DecodeCallback agrees
// with DecodeEnvelope, and the one-pass DecodeRoute with DecodeEnvelope
// followed by SniffOrderID.
func FuzzDecodeEnvelope(f *testing.F) {
	addSeeds(f, false)
	f.Fuzz(func(t *testing.T, b []byte) {
		env, err := proto.DecodeEnvelope(b)
		if errors.Is(err, proto.ErrNotJSON) == json.Valid(b) {
			t.Fatalf("ErrNotJSON = %v but json.Valid = %v: %v", errors.Is(err, proto.ErrNotJSON), json.Valid(b), err)
		}
		c, cerr := proto.DecodeCallback(b)
		if (err == nil) != (cerr == nil) || (err == nil && (c.Type != env.Type || c.Platform != env.Platform || string(c.Body) != string(env.Body))) {
			t.Fatalf("DecodeCallback %+v %v vs DecodeEnvelope %+v %v", c, cerr, env, err)
		}
		r, rerr := proto.DecodeRoute(b)
		if (err == nil) != (rerr == nil) || errors.Is(err, proto.ErrNotJSON) != errors.Is(rerr, proto.ErrNotJSON) {
			t.Fatalf("DecodeRoute error %v vs DecodeEnvelope error %v", rerr, err)
		}
		if err == nil {
			want := proto.Route{Envelope: env, OrderID: proto.SniffOrderID(env.Body)}
			if !reflect.DeepEqual(r, want) {
				t.Fatalf("DecodeRoute %+v, want %+v", r, want)
			}
		}
	})
}

// FuzzDecodeRefund: never panics; a decoded snapshot has an id, and every
// operation has one.
func FuzzDecodeRefund(f *testing.F) {
	addSeeds(f, true)
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := proto.DecodeRefund(b)
		if err != nil {
			return
		}
		if s.RefundID == "" {
			t.Fatal("decoded a refund without an id")
		}
		for _, o := range s.Operations {
			if o.ID == "" {
				t.Fatal("decoded an operation without an id")
			}
		}
		if !json.Valid(b) {
			t.Fatalf("decoded invalid JSON %q", b)
		}
	})
}

// FuzzDecodeOrder: never panics; a decoded order has an id.
func FuzzDecodeOrder(f *testing.F) {
	addSeeds(f, true)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := proto.DecodeOrder(b)
		if err == nil && m.OrderID == "" {
			t.Fatal("decoded an order without an id")
		}
	})
}

// FuzzDecodeTaobaoRefund: never panics; a decoded refund has an id.
func FuzzDecodeTaobaoRefund(f *testing.F) {
	addSeeds(f, true)
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := proto.DecodeTaobaoRefund(b)
		if err == nil && s.RefundID == "" {
			t.Fatal("decoded a refund without an id")
		}
	})
}

// FuzzParseTime: never panics, never hangs, on any string.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"", "1704853762000", "1704853762", "20180423171116000+0800", "2026-05-20 15:40:00",
		"2026-05-20 15:40:00.123", "2026-05-20T15:40:00+08:00", "99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = proto.ParseTime(s) // must not panic or hang
	})
}
