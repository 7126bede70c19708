package proto

import "fmt"

// Callback is a callback decoded in one pass: the envelope and, for the
// message types the ledger folds, the decoded body.
type Callback struct {
	Envelope
	// Refund is set when Type is TypeRefund and the body decoded (1688 form,
	// or Taobao's per DecodeRefundFor).
	Refund *RefundSnapshot
	// Order is set when IsOrderType(Type) and the body decoded (any form).
	Order *OrderMessage
	// BodyErr says why the body of a refund or order message could not be
	// decoded; the envelope is still valid and the raw bytes are the record.
	BodyErr error
}

// DecodeCallback decodes the envelope and, for refund and order messages,
// the body, with the same guarantees and errors as DecodeEnvelope followed by
// DecodeRefundFor or DecodeOrder on its Body. When messageBody is an object
// that follows messageType (as Xportcn sends it), the body is decoded where it
// lies: the bytes are scanned once. It never panics and runs in time linear
// in len(b).
func DecodeCallback(b []byte) (Callback, error) {
	it, ok := newObjectIter(b, 0)
	if !ok {
		env, err := DecodeEnvelope(b)
		return Callback{Envelope: env}, err
	}
	var c Callback
	var rawBody []byte
	var fieldErr error
	decodedInPlace := false
	inPlaceType := ""
	for {
		key, ok := it.nextKey()
		if !ok {
			break
		}
		end := -1
		var err error
		switch string(key) {
		case "messageBody":
			end, decodedInPlace = c.decodeBodyInPlace(&it)
			if decodedInPlace {
				inPlaceType, _ = NormalizeType(c.RawType)
			}
			if end < 0 {
				if it.err != nil {
					break
				}
				if end, err = valueEnd(it.b, it.i, it.depth); err != nil {
					it.err = err
					break
				}
			}
			rawBody = it.b[it.i:end]
		default:
			if end, err = valueEnd(it.b, it.i, it.depth); err != nil {
				it.err = err
				break
			}
			if fieldErr == nil {
				fieldErr = c.envelopeField(key, it.b[it.i:end])
			}
		}
		if it.err != nil || !it.skipTo(end) {
			break
		}
	}
	if it.err != nil {
		return Callback{}, notJSON(it.err)
	}
	if err := c.finishEnvelope(fieldErr, rawBody); err != nil {
		return Callback{}, err
	}
	// The in-place decode guessed the platform when messagePlatform came
	// later, and a repeated messageType could change the type: redo it then.
	if !decodedInPlace || c.Platform == PlatformTaobao || inPlaceType != c.Type {
		c.Refund, c.Order, c.BodyErr = nil, nil, nil
		c.decodeBody()
	}
	return c, nil
}

// decodeBodyInPlace decodes a refund or order body object at it.i when the
// type is already known, and returns the index just past it (-1 when it did
// not decode in place). A body that is invalid JSON sets it.err.
func (c *Callback) decodeBodyInPlace(it *objectIter) (end int, done bool) {
	b, i := it.b, it.i
	if i >= len(b) || b[i] != '{' || c.RawType == "" {
		return -1, false
	}
	typ, prefixPlatform := NormalizeType(c.RawType)
	platform := c.Platform
	if platform == "" || platform == PlatformUnknown {
		platform = prefixPlatform
	}
	body := openObject(b, i, it.depth)
	switch {
	case typ == TypeRefund && platform != PlatformTaobao:
		s, err := decodeRefundObject(&body)
		if body.err != nil {
			return -1, false // let the caller's validation report it
		}
		c.Refund, c.BodyErr = &s, err
	case IsOrderType(typ):
		m, err := decodeOrderObject(&body)
		if body.err != nil {
			return -1, false
		}
		c.Order, c.BodyErr = &m, err
	default:
		return -1, false
	}
	if c.BodyErr != nil {
		c.Refund, c.Order = nil, nil
		if !body.done { // stopped early on a bad field: the caller validates
			return -1, true
		}
	}
	return body.end, true
}

// envelopeField decodes one envelope member into c.
func (c *Callback) envelopeField(key, val []byte) error {
	var err error
	switch string(key) {
	case "messageType":
		c.RawType, err = textValue(val)
	case "messagePlatform":
		var code string
		if code, err = textValue(val); err == nil {
			c.Platform = PlatformFromCode(code)
		}
	case "timestamp":
		c.PushedAt, err = timeValue(val)
	case "retryCount":
		c.RetryCount, err = intValue(val)
	case "developId":
		c.DevelopID, err = idValue(val)
	case "id":
		c.ID, err = idValue(val)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	return nil
}

// finishEnvelope applies the envelope rules once all members are read.
func (c *Callback) finishEnvelope(fieldErr error, rawBody []byte) error {
	if fieldErr != nil {
		return fmt.Errorf("%w: %v", ErrNotEnvelope, fieldErr)
	}
	if c.RawType == "" {
		return fmt.Errorf("%w: messageType is missing or empty", ErrNotEnvelope)
	}
	typ, prefixPlatform := NormalizeType(c.RawType)
	c.Type = typ
	if c.Platform == "" || c.Platform == PlatformUnknown {
		c.Platform = prefixPlatform
	}
	c.Body = unwrapBody(rawBody)
	return nil
}

// decodeBody decodes c.Body after the envelope (string bodies, bodies
// before messageType, Taobao refunds).
func (c *Callback) decodeBody() {
	switch {
	case c.Type == TypeRefund:
		s, err := DecodeRefundFor(c.Platform, c.Body)
		if c.BodyErr = err; err == nil {
			c.Refund = &s
		}
	case IsOrderType(c.Type):
		m, err := DecodeOrder(c.Body)
		if c.BodyErr = err; err == nil {
			c.Order = &m
		}
	}
}
