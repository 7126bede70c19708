package proto

import (
	"encoding/json"
	"fmt"
)

// OrderMessage is a flat order message (ORDER_CREATE, ORDER_PAY_SUCCESS,
// ORDER_CANCEL, ORDER_BUYER_VIEW_ORDER_PRICE_MODIFY): the order's current
// totals and status, not a diff. Amounts are fen.
type OrderMessage struct {
	OrderID       string
	OrderNo       string
	Status        string // native value, e.g. WAITING_FOR_PAYMENT
	PayStatus     int64
	TotalAmount   int64 // fen
	ShippingFee   int64 // fen
	ProductAmount int64 // fen
	RefundAmount  int64 // fen
	CloseReason   string
	CreatedAt     int64 // tbCreateTime, epoch ms
	PaidAt        int64 // payTime, epoch ms
}

type wireOrder struct {
	OrderID       ID     `json:"orderId"`
	OrderNo       Str    `json:"orderNo"`
	OrderStatus   Str    `json:"orderStatus"`
	PayStatus     Int    `json:"payStatus"`
	TotalAmount   Int    `json:"totalAmount"`
	ShippingFee   Int    `json:"shippingFee"`
	ProductAmount Int    `json:"productAmount"`
	RefundAmount  Int    `json:"refundAmount"`
	CloseReason   Str    `json:"closeReason"`
	CreateTime    Millis `json:"tbCreateTime"`
	PayTime       Millis `json:"payTime"`
}

// DecodeOrder decodes a flat order message body. It fails when the body is not
// a JSON object, a field is unusable, or there is no orderId.
func DecodeOrder(body []byte) (OrderMessage, error) {
	var w wireOrder
	if err := json.Unmarshal(body, &w); err != nil {
		return OrderMessage{}, fmt.Errorf("order body: %w", err)
	}
	if w.OrderID == "" {
		return OrderMessage{}, fmt.Errorf("order body: orderId is missing")
	}
	return OrderMessage{
		OrderID:       string(w.OrderID),
		OrderNo:       string(w.OrderNo),
		Status:        string(w.OrderStatus),
		PayStatus:     int64(w.PayStatus),
		TotalAmount:   int64(w.TotalAmount),
		ShippingFee:   int64(w.ShippingFee),
		ProductAmount: int64(w.ProductAmount),
		RefundAmount:  int64(w.RefundAmount),
		CloseReason:   string(w.CloseReason),
		CreatedAt:     int64(w.CreateTime),
		PaidAt:        int64(w.PayTime),
	}, nil
}
