package proto

import "fmt"

// OrderMessage is an order message (ORDER_CREATE, ORDER_PAY_SUCCESS,
// ORDER_CANCEL, ORDER_BUYER_VIEW_ORDER_PRICE_MODIFY): the order's current
// totals and status, not a diff. Amounts are int64 fen whatever the wire form.
type OrderMessage struct {
	OrderID       string
	OrderNo       string
	Form          string // OrderFormFlat, OrderFormDetail or OrderFormTaobao
	Status        string // native value, e.g. WAITING_FOR_PAYMENT or waitbuyerpay
	PayStatus     int64
	HasTotals     bool  // the message states the totals below (else they are 0 and unknown)
	TotalAmount   int64 // fen
	ShippingFee   int64 // fen
	ProductAmount int64 // fen
	Discount      int64 // fen (order-detail form only)
	RefundAmount  int64 // fen
	CloseReason   string
	CreatedAt     int64 // tbCreateTime / createTime, epoch ms
	PaidAt        int64 // payTime, epoch ms
}

// The forms an order message body comes in (CALLBACKS.md "Message types").
const (
	// OrderFormFlat is Xportcn's flat order object; amounts in fen.
	OrderFormFlat = "flat"
	// OrderFormDetail is 1688's order-detail object (baseInfo ...): totalAmount,
	// shippingFee and sumProductPayment in yuan, discount in fen.
	OrderFormDetail = "detail"
	// OrderFormTaobao is Taobao's price message (salesOrderId ...); only the
	// order id is known to be readable.
	OrderFormTaobao = "taobao"
)

// DecodeOrder decodes an order message body in any of its forms: the flat
// object (orderId, totalAmount in fen ...), 1688's order detail (baseInfo with
// yuan decimals, converted to fen exactly) or Taobao's (salesOrderId). It
// fails when the body is not a JSON object, a decoded field is unusable
// (money with fractions of a fen, an unreadable time), or no order id is
// found. It never panics and runs in time linear in len(body).
func DecodeOrder(body []byte) (OrderMessage, error) {
	it, ok := newObjectIter(body, 0)
	if !ok {
		return OrderMessage{}, fmt.Errorf("order body: not a JSON object")
	}
	return decodeOrderObject(&it)
}

// decodeOrderObject decodes the order object it walks, to its end.
func decodeOrderObject(it *objectIter) (OrderMessage, error) {
	m := OrderMessage{Form: OrderFormFlat}
	var salesOrderID string
	for {
		key, val, ok := it.next()
		if !ok {
			break
		}
		var err error
		switch string(key) {
		case "orderId":
			m.OrderID, err = idValue(val)
		case "salesOrderId":
			salesOrderID, err = idValue(val)
		case "orderNo":
			m.OrderNo, err = textValue(val)
		case "orderStatus":
			m.Status, err = textValue(val)
		case "payStatus":
			m.PayStatus, err = intValue(val)
		case "totalAmount":
			m.TotalAmount, err = fenValue(val)
			m.HasTotals = m.HasTotals || string(val) != "null"
		case "shippingFee":
			m.ShippingFee, err = fenValue(val)
		case "productAmount":
			m.ProductAmount, err = fenValue(val)
		case "refundAmount":
			m.RefundAmount, err = fenValue(val)
		case "closeReason":
			m.CloseReason, err = textValue(val)
		case "tbCreateTime":
			m.CreatedAt, err = timeValue(val)
		case "payTime":
			m.PaidAt, err = timeValue(val)
		case "baseInfo":
			if string(val) != "null" {
				err = decodeBaseInfo(val, it.depth, &m)
			}
		}
		if err != nil {
			return OrderMessage{}, fmt.Errorf("order body: %s: %w", key, err)
		}
	}
	if it.err != nil {
		return OrderMessage{}, fmt.Errorf("order body: %w", it.err)
	}
	if m.OrderID == "" && salesOrderID != "" {
		m.OrderID, m.Form = salesOrderID, OrderFormTaobao
	}
	if m.OrderID == "" {
		return OrderMessage{}, fmt.Errorf("order body: no orderId, baseInfo.id or salesOrderId")
	}
	return m, nil
}

// decodeBaseInfo reads the order-detail form's baseInfo into m; its values
// win over flat fields of the same meaning.
func decodeBaseInfo(raw []byte, depth int, m *OrderMessage) error {
	if len(raw) == 0 || raw[0] != '{' {
		return fmt.Errorf("not an object")
	}
	it := openObject(raw, 0, depth)
	m.Form = OrderFormDetail
	var id, idOfStr string
	for {
		key, val, ok := it.next()
		if !ok {
			break
		}
		var err error
		switch string(key) {
		case "id":
			id, err = idValue(val)
		case "idOfStr":
			idOfStr, err = idValue(val)
		case "status":
			m.Status, err = textValue(val)
		case "totalAmount":
			m.TotalAmount, err = yuanValue(val)
			m.HasTotals = m.HasTotals || string(val) != "null"
		case "shippingFee":
			m.ShippingFee, err = yuanValue(val)
		case "sumProductPayment":
			m.ProductAmount, err = yuanValue(val)
		case "discount":
			m.Discount, err = fenValue(val)
		case "refund":
			m.RefundAmount, err = yuanValue(val)
		case "createTime":
			m.CreatedAt, err = timeValue(val)
		case "payTime":
			m.PaidAt, err = timeValue(val)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
	}
	if it.err != nil {
		return it.err
	}
	switch {
	case idOfStr != "":
		m.OrderID = idOfStr
	case id != "":
		m.OrderID = id
	}
	return nil
}
