package simulate

import (
	"strconv"

	"refundledger/proto"
)

// op is one generated operation.
type op struct {
	step
	id     string
	at     int64
	before string // state before it ("" for the apply)
}

// refund generates refund k of an order: one snapshot message per operation,
// each the whole record after that operation.
func (g *gen) refund(orderID string, k int, goods, carriage, at int64) RefundTruth {
	r := g.r
	names := g.opts.Lifecycles
	if len(names) == 0 {
		names = Lifecycles()
	}
	name := names[r.IntN(len(names))]
	lc := lifecycles[name]
	num := strconv.FormatUint(refundIDBase+g.seedOffset()*1e10+uint64(g.i)*100+uint64(k), 10)
	refundID := "TQ" + num

	// Operation ids are unique but not monotonic in time (REFUNDS.md 1).
	perm := r.Perm(len(lc.steps))
	ops := make([]op, 0, len(lc.steps))
	state := ""
	for j, s := range lc.steps {
		if j > 0 && r.IntN(5) != 0 { // else the same second as the previous operation: a tie
			at += int64(1+r.IntN(48*3600)) * 1000
		}
		ops = append(ops, op{step: s, id: strconv.FormatInt(opIDBase+int64(g.seedOffset())*1e10+int64(g.i)*1000+int64(k)*50+int64(perm[j]), 10), at: at, before: state})
		state = s.to
	}

	apply := goods
	created := ops[0].at
	form := r.IntN(timeForms)
	for n := range ops {
		if ops[n].modify {
			apply -= apply * int64(10+r.IntN(40)) / 100
			if apply < 1 {
				apply = 1
			}
		}
		snap := ops[:n+1]
		cur := snap[n]
		o := newObj(nil).str("alipayPaymentId", "2024"+num).
			int("applyCarriage", carriage).int("applyPayment", apply).
			str("applyReason", "不想买了").int("applyReasonId", 20006).
			int("canRefundPayment", apply).
			int("disputeRequest", disputeRequest(lc.goods)).int("disputeType", 1).
			raw("extInfo", extInfo(orderID, apply+carriage)).
			int("frozenFund", -1).
			time("gmtApply", created, form).
			time("gmtCreate", created, form).
			time("gmtModified", cur.at, form)
		if isTerminal(cur.to) {
			o.time("gmtCompleted", cur.at, form)
		}
		o.int("goodsStatus", goodsStatus(lc.goods, cur.to)).
			str("refundId", refundID).
			bool("onlyRefund", !lc.goods).
			raw("orderEntryIdList", []byte("["+orderID+"]")).
			num("orderId", orderID).
			int("refundCarriage", carriage).bool("refundGoods", lc.goods).int("refundPayment", apply).
			str("status", cur.to).
			raw("refundOperationList", operationList(snap, refundID, form)).
			num("id", num)
		g.message(proto.TypeRefund, orderID, refundID, cur.at, o.end(), true)
	}
	truth := RefundTruth{
		Platform: proto.Platform1688, RefundID: refundID, OrderID: orderID, Lifecycle: name,
		Status: state, Operations: len(ops),
	}
	if state == stSuccess {
		truth.Booked = apply + carriage
	}
	return truth
}

// operationList renders ops newest first, each with before == after == the
// state before it; the apply has neither.
func operationList(ops []op, refundID string, form int) []byte {
	b := []byte{'['}
	for n := len(ops) - 1; n >= 0; n-- {
		p := ops[n]
		o := newObj(b)
		if p.before != "" {
			o.str("afterOperateStatus", p.before).str("beforeOperateStatus", p.before)
		}
		o.str("discription", p.remark).time("gmtCreate", p.at, form).time("gmtModified", p.at, form).
			num("id", p.id).int("msgType", p.msg).str("operateRemark", p.remark).
			int("operateTypeInt", p.typ).int("operatorRoleId", p.role).str("refundId", refundID)
		b = o.end()
		if n > 0 {
			b = append(b, ',')
		}
	}
	return append(b, ']')
}

// extInfo mimics the seed's: strings, plus an array whose subBizOrderId is a
// 19-digit number (what breaks map[string]any decoders).
func extInfo(orderID string, fee int64) []byte {
	item := newObj(nil).num("subBizOrderId", orderID).str("logisticInterceptEnum", "INTERCEPT_NOT_APPLY").end()
	return newObj(nil).str("bizCode", "cbu.general.refund").str("apply_init_refund_fee", strconv.FormatInt(fee, 10)).
		raw("interceptItemListResult", append(append([]byte{'['}, item...), ']')).str("opRole", "daemon").end()
}

func disputeRequest(goods bool) int64 {
	if goods {
		return 3
	}
	return 1
}

func goodsStatus(goods bool, status string) int64 {
	switch {
	case !goods:
		return 1
	case status == stWaitSellerReceive || status == stSuccess:
		return 3
	}
	return 2
}

func isTerminal(status string) bool { return status == stSuccess || status == stClose }
