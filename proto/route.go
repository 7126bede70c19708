package proto

// Route is what the ingester needs to file a callback: where it goes and how
// it is identified. It is read from the envelope plus the order id of the body.
type Route struct {
	Envelope
	OrderID string // "" when the body names no order
}

// SniffOrderID finds the order a body concerns: orderId (1688 refunds and the
// flat order messages), salesOrderId (Taobao), or baseInfo.id (1688's
// order-detail form). It returns "" when none is found or the body is not an
// object; it never fails.
func SniffOrderID(body []byte) string {
	it, ok := newObjectIter(body, 0)
	if !ok {
		return ""
	}
	var order, sales, base string
	var hasBase bool
	for {
		key, val, ok := it.next()
		if !ok {
			break
		}
		switch string(key) {
		case "orderId":
			order, _ = idValue(val)
		case "salesOrderId":
			sales, _ = idValue(val)
		case "baseInfo":
			bi, ok := newObjectIter(val, 1)
			if !ok {
				continue
			}
			hasBase = true
			for {
				k, v, ok := bi.next()
				if !ok {
					break
				}
				if string(k) == "id" {
					base, _ = idValue(v)
				}
			}
		}
	}
	if it.err != nil {
		return ""
	}
	switch {
	case order != "":
		return order
	case sales != "":
		return sales
	case hasBase:
		return base
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
