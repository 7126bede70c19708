package proto

import (
	"fmt"
	"strings"
)

// Taobao's own refund statuses (REFUNDS.md section 7), kept in their native
// upper-case form.
const (
	TaobaoWaitSellerAgree        = "WAIT_SELLER_AGREE"
	TaobaoWaitBuyerReturnGoods   = "WAIT_BUYER_RETURN_GOODS"
	TaobaoWaitSellerConfirmGoods = "WAIT_SELLER_CONFIRM_GOODS"
	TaobaoSellerRefuseBuyer      = "SELLER_REFUSE_BUYER"
	TaobaoClosed                 = "CLOSED"
	TaobaoSuccess                = "SUCCESS"
)

// taobaoKeys maps the member names a Taobao refund body may use (Taobao's
// snake_case API names and their camelCase twins) to the field they fill and
// a rank: when a body carries several names for one field, the lowest rank
// wins, whatever the order of members.
var taobaoKeys = map[string]struct {
	field string
	rank  int
}{
	"refund_id": {"refund", 0}, "refundId": {"refund", 1}, "refundNo": {"refund", 2}, "disputeId": {"refund", 3},
	"tid": {"order", 0}, "orderId": {"order", 1}, "salesOrderId": {"order", 2}, "bizOrderId": {"order", 3}, "oid": {"order", 4},
	"status": {"status", 0}, "refund_status": {"status", 1}, "refundStatus": {"status", 2},
	"refund_fee": {"fee", 0}, "refundFee": {"fee", 1}, "refund_amount": {"fee", 2},
	"created": {"created", 0}, "gmtCreate": {"created", 1},
	"modified": {"modified", 0}, "gmtModified": {"modified", 1},
	"has_good_return": {"goods", 0}, "hasGoodReturn": {"goods", 1},
}

// DecodeTaobaoRefund decodes a Taobao refund body as far as its shape is
// known (it has not been seen from Xportcn; CALLBACKS.md): the refund id
// (refund_id, refundId, refundNo, disputeId), the order id (tid, orderId,
// salesOrderId, bizOrderId, oid), the status (native, upper case, e.g.
// WAIT_SELLER_AGREE), refund_fee in yuan (converted exactly to fen, into
// ApplyPayment and RefundPayment), created/modified times and whether goods
// are returned. The fields may sit at the top level or inside a "refund"
// object. The snapshot has no operations. It fails when the body is not a
// JSON object, a decoded field is unusable, or no refund id is found. It
// never panics and runs in time linear in len(body).
func DecodeTaobaoRefund(body []byte) (RefundSnapshot, error) {
	s, found, err := decodeTaobaoObject(body, 0)
	if err != nil {
		return RefundSnapshot{}, fmt.Errorf("taobao refund body: %w", err)
	}
	if !found {
		return RefundSnapshot{}, fmt.Errorf("taobao refund body: no refund id")
	}
	return s, nil
}

func decodeTaobaoObject(raw []byte, depth int) (s RefundSnapshot, found bool, err error) {
	it, ok := newObjectIter(raw, depth)
	if !ok {
		return s, false, fmt.Errorf("not a JSON object")
	}
	ranks := map[string]int{}
	var nested []byte
	for {
		key, val, ok := it.next()
		if !ok {
			break
		}
		if string(key) == "refund" && len(val) > 0 && val[0] == '{' {
			nested = val
			continue
		}
		k, known := taobaoKeys[string(key)]
		if !known {
			continue
		}
		if r, set := ranks[k.field]; set && r <= k.rank {
			continue
		}
		ranks[k.field] = k.rank
		switch k.field {
		case "refund":
			s.RefundID, err = idValue(val)
		case "order":
			s.OrderID, err = idValue(val)
		case "status":
			var st string
			st, err = textValue(val)
			s.Status = strings.ToUpper(st)
		case "fee":
			s.RefundPayment, err = yuanValue(val)
			s.ApplyPayment = s.RefundPayment
		case "created":
			s.CreatedAt, err = timeValue(val)
		case "modified":
			s.ModifiedAt, err = timeValue(val)
		case "goods":
			s.RefundGoods, err = boolValue(val)
			s.OnlyRefund = !s.RefundGoods
		}
		if err != nil {
			return RefundSnapshot{}, false, fmt.Errorf("%s: %w", key, err)
		}
	}
	if it.err != nil {
		return RefundSnapshot{}, false, it.err
	}
	if s.RefundID == "" && nested != nil && depth == 0 {
		return decodeTaobaoObject(nested, depth+1)
	}
	s.ID = s.RefundID
	s.Operations = []Operation{}
	if s.Status == TaobaoSuccess {
		s.CompletedAt = s.ModifiedAt
	}
	return s, s.RefundID != "", nil
}

// DecodeRefundFor decodes a refund body of the given platform: a 1688 body
// with DecodeRefund; a Taobao body with DecodeRefund when it has 1688's shape
// (a refundOperationList), else with DecodeTaobaoRefund.
func DecodeRefundFor(p Platform, body []byte) (RefundSnapshot, error) {
	if p == PlatformTaobao && !hasMember(body, "refundOperationList") {
		return DecodeTaobaoRefund(body)
	}
	return DecodeRefund(body)
}

// hasMember reports whether the JSON object body has a top-level member name.
func hasMember(body []byte, name string) bool {
	it, ok := newObjectIter(body, 0)
	if !ok {
		return false
	}
	for {
		key, _, ok := it.next()
		if !ok {
			return false
		}
		if string(key) == name {
			return true
		}
	}
}
