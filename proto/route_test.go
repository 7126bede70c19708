package proto_test

import (
	"testing"

	"refundledger/proto"
)

func TestSniffOrderID(t *testing.T) {
	for _, tc := range []struct{ name, body, want string }{
		{"RefundNumber", `{"id":1,"orderId":2044420321024880794,"x":[1,{"orderId":5}]}`, "2044420321024880794"},
		{"OrderString", `{"orderId":"3305075341149134260","orderNo":"PO1"}`, "3305075341149134260"},
		{"Taobao", `{"salesOrderId":"998877","subOrders":[]}`, "998877"},
		{"OrderDetail", `{"baseInfo":{"status":"waitbuyerpay","id":151267031008969811}}`, "151267031008969811"},
		{"OrderIDWinsOverOthers", `{"salesOrderId":"1","orderId":"2"}`, "2"},
		{"NestedOnlyIsNotTheOrder", `{"extInfo":{"orderId":"7"}}`, ""},
		{"NullOrderID", `{"orderId":null}`, ""},
		{"NotAnObject", `[1,2]`, ""},
		{"Empty", ``, ""},
		{"Broken", `{"orderId":"1"`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := proto.SniffOrderID([]byte(tc.body)); got != tc.want {
				t.Fatalf("SniffOrderID(%s) = %q, want %q", tc.body, got, tc.want)
			}
		})
	}
}
