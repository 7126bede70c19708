package simulate

import "sort"

// Refund lifecycles the simulator draws from. Operation type codes that no
// document lists (2, 3, 6, 9) are the simulator's own labels.
const (
	LifecycleRefundOnly      = "refund_only"          // apply -> seller agrees, refund succeeds
	LifecycleTimeoutSuccess  = "timeout_success"      // apply -> system (role 4) succeeds it, as in the seed
	LifecycleReturnAndRefund = "return_and_refund"    // apply -> agree -> buyer ships -> success
	LifecycleRejectModify    = "reject_modify_agree"  // apply -> reject -> buyer modifies (less money) -> success
	LifecycleBuyerCancel     = "buyer_cancel"         // apply -> buyer cancels -> closed
	LifecycleTimeoutClose    = "timeout_close"        // apply -> reject -> buyer silent, system closes
	LifecycleReturnTimeout   = "return_timeout_close" // apply -> agree -> buyer never ships, system closes
	LifecycleStaff           = "staff_intervention"   // apply -> reject -> platform staff (role 3) grants it
	LifecycleReturnRejected  = "return_rejected"      // return refused on receipt, modified, shipped again, success
)

// Refund statuses as 1688 sends them.
const (
	stWaitSellerAgree   = "waitselleragree"
	stWaitBuyerModify   = "waitbuyermodify"
	stWaitBuyerSend     = "waitbuyersend"
	stWaitSellerReceive = "waitsellerreceive"
	stSuccess           = "refundsuccess"
	stClose             = "refundclose"
)

// Operator roles (operatorRoleId).
const (
	roleBuyer  = 1
	roleSeller = 2
	roleStaff  = 3
	roleSystem = 4
)

// step is one operation of a lifecycle: who did what, and the state after.
type step struct {
	typ    int64
	role   int64
	msg    int64 // msgType
	remark string
	to     string
	modify bool // the buyer lowers the amount asked
}

var (
	apply   = step{typ: 1, role: roleBuyer, msg: 7, remark: "买家申请退款协议,等待卖家确认", to: stWaitSellerAgree}
	success = step{typ: 8, role: roleSeller, msg: 7, remark: "退款成功", to: stSuccess}
	agree   = step{typ: 19, role: roleSeller, msg: 7, remark: "确认收货地址", to: stWaitBuyerSend}
	ship    = step{typ: 10, role: roleBuyer, msg: 7, remark: "买家退货", to: stWaitSellerReceive}
	reject  = step{typ: 15, role: roleSeller, msg: 7, remark: "卖家拒绝退款", to: stWaitBuyerModify}
	modify  = step{typ: 2, role: roleBuyer, msg: 7, remark: "买家修改退款协议", to: stWaitSellerAgree, modify: true}
	cancel  = step{typ: 3, role: roleBuyer, msg: 7, remark: "买家撤销退款", to: stClose}
	timeout = step{typ: 9, role: roleSystem, msg: 7, remark: "超时关闭退款", to: stClose}
)

func with(s step, role, msg int64, remark string) step {
	s.role, s.msg, s.remark = role, msg, remark
	return s
}

// lifecycle is a named sequence of steps; goods says whether the buyer
// returns the goods (disputeRequest 3).
type lifecycle struct {
	steps []step
	goods bool
}

var lifecycles = map[string]lifecycle{
	LifecycleRefundOnly:      {steps: []step{apply, success}},
	LifecycleTimeoutSuccess:  {steps: []step{apply, with(success, roleSystem, 7, "退款成功")}},
	LifecycleReturnAndRefund: {steps: []step{apply, agree, ship, success}, goods: true},
	LifecycleRejectModify:    {steps: []step{apply, reject, modify, success}},
	LifecycleBuyerCancel:     {steps: []step{apply, cancel}},
	LifecycleTimeoutClose:    {steps: []step{apply, reject, timeout}},
	LifecycleReturnTimeout:   {steps: []step{apply, agree, timeout}, goods: true},
	LifecycleStaff: {steps: []step{apply, reject,
		with(step{typ: 6, to: stSuccess}, roleStaff, 3, "小二介入,支持买家退款")}},
	LifecycleReturnRejected: {steps: []step{apply, agree, ship,
		with(reject, roleSeller, 7, "卖家拒绝确认收货"), modify, agree, ship, success}, goods: true},
}

// Lifecycles returns the names of every lifecycle, sorted.
func Lifecycles() []string {
	names := make([]string, 0, len(lifecycles))
	for n := range lifecycles {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
