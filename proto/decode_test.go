package proto_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"refundledger/proto"
)

func fixtures(t testing.TB) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob("../testdata/xportcn/*.json")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	out := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(p)] = b
	}
	return out
}

func TestDecodeEnvelope(t *testing.T) {
	t.Run("Seed", func(t *testing.T) {
		env, err := proto.DecodeEnvelope(fixtures(t)["1688-refund-refundonly-success.json"])
		if err != nil {
			t.Fatal(err)
		}
		if env.Type != proto.TypeRefund || env.Platform != proto.Platform1688 || env.ID != "224" ||
			env.DevelopID != "1023561483696472885" || env.PushedAt != 0 || len(env.Body) == 0 {
			t.Fatalf("%+v", env)
		}
	})
	t.Run("BodyAsStringPrefixedTypeTaobao", func(t *testing.T) {
		env, err := proto.DecodeEnvelope([]byte(`{"messageType":"TAOBAO_ORDER_CANCEL","messageBody":"{\"orderId\":\"1\"}","messagePlatform":"0","timestamp":"1779263269913","retryCount":"3"}`))
		if err != nil {
			t.Fatal(err)
		}
		if env.Type != proto.TypeOrderCancel || env.Platform != proto.PlatformTaobao || string(env.Body) != `{"orderId":"1"}` ||
			env.PushedAt != 1779263269913 || env.RetryCount != 3 {
			t.Fatalf("%+v", env)
		}
	})
	t.Run("ErrNotJSON", func(t *testing.T) {
		for _, in := range []string{"", "{", `{"messageType":"X",}`, `{"a":tru}`, `{"messageType":"X","messageBody":{"a":01}}`} {
			if _, err := proto.DecodeEnvelope([]byte(in)); !errors.Is(err, proto.ErrNotJSON) {
				t.Errorf("%q: %v", in, err)
			}
		}
	})
	t.Run("ErrNotEnvelope", func(t *testing.T) {
		for _, in := range []string{"1", "[]", `{}`, `{"messageType":""}`, `{"messageType":{}}`, `{"messageType":"X","retryCount":1.5}`} {
			if _, err := proto.DecodeEnvelope([]byte(in)); !errors.Is(err, proto.ErrNotEnvelope) {
				t.Errorf("%q: %v", in, err)
			}
		}
	})
}

func TestDecodeRefund(t *testing.T) {
	t.Run("IdsBeyond2to53AndTimeForms", func(t *testing.T) {
		for name, want := range map[string]int64{
			"1688-refund-refundonly-success.json":         1704853763000,
			"1688-refund-return-success-stringtimes.json": 1524476834000,
		} {
			c, err := proto.DecodeCallback(fixtures(t)[name])
			if err != nil || c.Refund == nil {
				t.Fatal(name, err, c.BodyErr)
			}
			if c.Refund.ModifiedAt != want {
				t.Errorf("%s: gmtModified %d, want %d", name, c.Refund.ModifiedAt, want)
			}
		}
		s, err := proto.DecodeRefund([]byte(`{"id":142969441872889407,"orderId":2044420321024880794,"status":"REFUNDSUCCESS","refundPayment":"11700","refundOperationList":[{"id":4538611416976,"gmtCreate":"2024-01-10 10:29:23"}]}`))
		if err != nil {
			t.Fatal(err)
		}
		if s.RefundID != "TQ142969441872889407" || s.OrderID != "2044420321024880794" || s.Status != "refundsuccess" ||
			s.RefundPayment != 11700 || s.Operations[0].At != 1704853763000 {
			t.Fatalf("%+v", s)
		}
	})
	t.Run("SameAsEncodingJSON", func(t *testing.T) {
		body := fixtures(t)["1688-refund-return-success-stringtimes.json"]
		env, _ := proto.DecodeEnvelope(body)
		s, err := proto.DecodeRefund(env.Body)
		if err != nil {
			t.Fatal(err)
		}
		var w struct {
			RefundOperationList []struct {
				ID            proto.ID  `json:"id"`
				Discription   proto.Str `json:"discription"`
				OperateRemark proto.Str `json:"operateRemark"`
			}
		}
		if err := json.Unmarshal(env.Body, &w); err != nil {
			t.Fatal(err)
		}
		for i, o := range w.RefundOperationList {
			if got := s.Operations[i]; got.ID != string(o.ID) || got.Description != string(o.Discription) || got.Remark != string(o.OperateRemark) {
				t.Errorf("operation %d: %+v vs %+v", i, got, o)
			}
		}
	})
	t.Run("Errors", func(t *testing.T) {
		for _, in := range []string{`[]`, `{"status":"x"}`, `{"id":1,"refundPayment":1.5}`, `{"id":1,"refundOperationList":[{"gmtCreate":1}]}`, `{"id":1,"refundOperationList":{}}`} {
			if _, err := proto.DecodeRefund([]byte(in)); err == nil {
				t.Errorf("%s: no error", in)
			}
		}
	})
}

func TestDecodeOrder(t *testing.T) {
	t.Run("FlatFixtures", func(t *testing.T) {
		c, err := proto.DecodeCallback(fixtures(t)["1688-order-price-modify.json"])
		if err != nil || c.Order == nil {
			t.Fatal(err, c.BodyErr)
		}
		if m := c.Order; m.OrderID != "3305075341149134260" || m.TotalAmount != 9800 || m.ShippingFee != 500 || !m.HasTotals || m.Form != proto.OrderFormFlat {
			t.Fatalf("%+v", m)
		}
	})
	t.Run("DetailFormYuan", func(t *testing.T) {
		m, err := proto.DecodeOrder([]byte(`{"baseInfo":{"id":2044420321024880794,"idOfStr":"2044420321024880794","status":"waitbuyerpay","totalAmount":"117.5","shippingFee":5.00,"discount":-250,"sumProductPayment":112.5,"createTime":"20180423171116000+0800"}}`))
		if err != nil {
			t.Fatal(err)
		}
		if m.OrderID != "2044420321024880794" || m.TotalAmount != 11750 || m.ShippingFee != 500 || m.ProductAmount != 11250 ||
			m.Discount != -250 || m.Status != "waitbuyerpay" || m.Form != proto.OrderFormDetail || m.CreatedAt != 1524474676000 {
			t.Fatalf("%+v", m)
		}
	})
	t.Run("ErrFractionOfFen", func(t *testing.T) {
		if _, err := proto.DecodeOrder([]byte(`{"baseInfo":{"id":1,"totalAmount":"1.005"}}`)); err == nil {
			t.Fatal("no error")
		}
	})
	t.Run("TaobaoForm", func(t *testing.T) {
		m, err := proto.DecodeOrder([]byte(`{"salesOrderId":"9","subOrders":[]}`))
		if err != nil || m.OrderID != "9" || m.HasTotals || m.Form != proto.OrderFormTaobao {
			t.Fatalf("%+v %v", m, err)
		}
	})
}

func TestDecodeTaobaoRefund(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		s, err := proto.DecodeTaobaoRefund([]byte(`{"refund":{"refundId":"T1","refund_id":"T2","tid":"20000000000000000001","status":"wait_seller_agree","refund_fee":"0.07","has_good_return":"true"}}`))
		if err != nil {
			t.Fatal(err)
		}
		if s.RefundID != "T2" || s.OrderID != "20000000000000000001" || s.Status != proto.TaobaoWaitSellerAgree || s.RefundPayment != 7 || !s.RefundGoods || len(s.Operations) != 0 {
			t.Fatalf("%+v", s)
		}
	})
	t.Run("ErrNoRefundID", func(t *testing.T) {
		if _, err := proto.DecodeTaobaoRefund([]byte(`{"tid":1}`)); err == nil {
			t.Fatal("no error")
		}
	})
}

func TestParseTime(t *testing.T) {
	for in, want := range map[string]int64{
		"":                       0,
		"1704853762000":          1704853762000,
		"1704853762":             1704853762000,
		"20180423171116000+0800": 1524474676000,
		"2026-05-20 15:40:00":    1779262800000,
		"2026-05-20T07:40:00Z":   1779262800000,
	} {
		t.Run(in, func(t *testing.T) {
			got, err := proto.ParseTime(in)
			if err != nil || got != want {
				t.Fatalf("got %d, %v; want %d", got, err, want)
			}
		})
	}
	t.Run("Err", func(t *testing.T) {
		if _, err := proto.ParseTime("yesterday"); err == nil {
			t.Fatal("no error")
		}
	})
}

// A document that is not JSON says so once, where it breaks: the quarantine
// reason and the 400 a person reads are made of this message.
func TestNotJSONSaysWhereOnce(t *testing.T) {
	for _, decode := range []func([]byte) error{
		func(b []byte) error { _, err := proto.DecodeEnvelope(b); return err },
		func(b []byte) error { _, err := proto.DecodeCallback(b); return err },
		func(b []byte) error { _, err := proto.DecodeRoute(b); return err },
	} {
		for _, b := range []string{`{"messageType": "x",`, `nope`} {
			err := decode([]byte(b))
			if !errors.Is(err, proto.ErrNotJSON) || strings.Count(err.Error(), "JSON") != 1 || !strings.Contains(err.Error(), "at offset") {
				t.Errorf("%q: %v", b, err)
			}
		}
	}
}
