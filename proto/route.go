package proto

import "encoding/json"

// Route is what the ingester needs to file a callback: where it goes and how
// it is identified. It is read from the envelope plus the order id of the body.
type Route struct {
	Envelope
	OrderID string // "" when the body names no order
}

type wireOrderRef struct {
	OrderID      ID `json:"orderId"`
	SalesOrderID ID `json:"salesOrderId"`
	BaseInfo     *struct {
		ID ID `json:"id"`
	} `json:"baseInfo"`
}

// SniffOrderID finds the order a body concerns: orderId (1688 refunds and the
// flat order messages), salesOrderId (Taobao), or baseInfo.id (1688's
// order-detail form). It returns "" when none is found or the body is not an
// object; it never fails.
func SniffOrderID(body []byte) string {
	var w wireOrderRef
	if len(body) == 0 || json.Unmarshal(body, &w) != nil {
		return ""
	}
	switch {
	case w.OrderID != "":
		return string(w.OrderID)
	case w.SalesOrderID != "":
		return string(w.SalesOrderID)
	case w.BaseInfo != nil:
		return string(w.BaseInfo.ID)
	}
	return ""
}

// DecodeRoute decodes the envelope and sniffs the order id.
func DecodeRoute(b []byte) (Route, error) {
	env, err := DecodeEnvelope(b)
	if err != nil {
		return Route{}, err
	}
	return Route{Envelope: env, OrderID: SniffOrderID(env.Body)}, nil
}
