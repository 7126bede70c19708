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
	return sniffObject(&it)
}

// sniffObject walks the members of a body object (validating, as next does)
// and returns its order id; "" when it names none or is not valid JSON (see
// it.err).
func sniffObject(it *objectIter) string {
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

// DecodeRoute decodes the envelope and sniffs the order id: the same result
// as DecodeEnvelope followed by SniffOrderID on its Body, with the bytes of a
// body object scanned once (the ingester's hot path; a string body is
// unquoted and scanned again).
func DecodeRoute(b []byte) (Route, error) {
	it, ok := newObjectIter(b, 0)
	if !ok {
		env, err := DecodeEnvelope(b)
		return Route{Envelope: env}, err
	}
	var c Callback
	var rawBody []byte
	var fieldErr error
	order, sniffed := "", false
	for {
		key, ok := it.nextKey()
		if !ok {
			break
		}
		var end int
		var err error
		if string(key) == "messageBody" && it.i < len(it.b) && it.b[it.i] == '{' {
			body := openObject(it.b, it.i, it.depth)
			order, sniffed = sniffObject(&body), true
			if it.err = body.err; it.err != nil {
				break
			}
			end = body.end
		} else if end, err = valueEnd(it.b, it.i, it.depth); err != nil {
			it.err = err
			break
		}
		val := it.b[it.i:end]
		switch {
		case string(key) == "messageBody":
			rawBody = val
			sniffed = sniffed && val[0] == '{'
		case fieldErr == nil:
			fieldErr = c.envelopeField(key, val)
		}
		if !it.skipTo(end) {
			break
		}
	}
	if it.err != nil {
		return Route{}, notJSON(it.err)
	}
	if err := c.finishEnvelope(fieldErr, rawBody); err != nil {
		return Route{}, err
	}
	if !sniffed {
		order = SniffOrderID(c.Body)
	}
	return Route{Envelope: c.Envelope, OrderID: order}, nil
}
