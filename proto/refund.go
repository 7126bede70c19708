package proto

import (
	"fmt"
	"strings"
)

// RefundSnapshot is a refund as one callback carried it: the whole record at
// send time. For 1688 it is OpOrderRefundModel; for Taobao (see
// DecodeTaobaoRefund) the identifiers, status and amounts, with no
// operations. Only the fields the fold and the read side need are decoded; the
// rest stays in the raw bytes, which are the record.
type RefundSnapshot struct {
	RefundID       string      // "TQ" + numeric id for 1688; Taobao's refund id
	ID             string      // numeric refund id (decimal)
	OrderID        string      // decimal, exact
	Status         string      // 1688: lower case (waitselleragree...); Taobao: native upper case
	ApplyPayment   int64       // fen
	ApplyCarriage  int64       // fen
	RefundPayment  int64       // fen
	RefundCarriage int64       // fen
	DisputeType    int64       // 1 in-sale, 2 after-sale
	DisputeRequest int64       // 1 refund only, 3 return and refund
	GoodsStatus    int64       // 1 not received, 2 received, 3 returned
	OnlyRefund     bool        // no return required
	RefundGoods    bool        // a return is required
	CreatedAt      int64       // gmtCreate, epoch ms
	ModifiedAt     int64       // gmtModified, epoch ms
	CompletedAt    int64       // gmtCompleted, epoch ms
	Operations     []Operation // as listed: newest first
}

// Operation is one entry of refundOperationList.
type Operation struct {
	ID          string // operation id (decimal); identity, not order
	At          int64  // gmtCreate, epoch ms (second precision)
	Type        int64  // operateTypeInt
	Remark      string // operateRemark
	Description string // discription (sic)
	Role        int64  // operatorRoleId: 1 buyer, 2 seller, 3 staff, 4 system
	MsgType     int64  // msgType: 3 staff to both, 4 to buyer, 5 to seller, 7 ordinary
	Before      string // beforeOperateStatus, lower case
	After       string // afterOperateStatus, lower case
}

// DecodeRefund decodes a 1688 refund body. It fails when the body is not a
// JSON object, when a decoded field has an unusable value (an id that is not
// an integer or string, money with a fraction, an unreadable time), or when
// the refund cannot be identified (no refundId and no id) or an operation has
// no id. Missing and null fields are zero. It never panics and runs in time
// linear in len(body).
func DecodeRefund(body []byte) (RefundSnapshot, error) {
	it, ok := newObjectIter(body, 0)
	if !ok {
		return RefundSnapshot{}, fmt.Errorf("refund body: not a JSON object")
	}
	return decodeRefundObject(&it)
}

// decodeRefundObject decodes the refund object it walks, to its end. The
// operation list is decoded where it lies, so every byte is scanned once.
func decodeRefundObject(it *objectIter) (RefundSnapshot, error) {
	var s RefundSnapshot
	var opsErr error
	for {
		key, ok := it.nextKey()
		if !ok {
			break
		}
		if string(key) == "refundOperationList" {
			var end int
			s.Operations, end, opsErr = decodeOperationsAt(it.b, it.i, it.depth)
			if end < 0 {
				it.err = opsErr
				break
			}
			if !it.skipTo(end) {
				break
			}
			continue
		}
		end, err := valueEnd(it.b, it.i, it.depth)
		if err != nil {
			it.err = err
			break
		}
		val := it.b[it.i:end]
		switch string(key) {
		case "refundId":
			s.RefundID, err = textValue(val)
		case "id":
			s.ID, err = idValue(val)
		case "orderId":
			s.OrderID, err = idValue(val)
		case "status":
			s.Status, err = statusValue(val)
		case "applyPayment":
			s.ApplyPayment, err = fenValue(val)
		case "applyCarriage":
			s.ApplyCarriage, err = fenValue(val)
		case "refundPayment":
			s.RefundPayment, err = fenValue(val)
		case "refundCarriage":
			s.RefundCarriage, err = fenValue(val)
		case "disputeType":
			s.DisputeType, err = intValue(val)
		case "disputeRequest":
			s.DisputeRequest, err = intValue(val)
		case "goodsStatus":
			s.GoodsStatus, err = intValue(val)
		case "onlyRefund":
			s.OnlyRefund, err = boolValue(val)
		case "refundGoods":
			s.RefundGoods, err = boolValue(val)
		case "gmtCreate":
			s.CreatedAt, err = timeValue(val)
		case "gmtModified":
			s.ModifiedAt, err = timeValue(val)
		case "gmtCompleted":
			s.CompletedAt, err = timeValue(val)
		}
		if err != nil {
			return RefundSnapshot{}, fmt.Errorf("refund body: %s: %w", key, err)
		}
		if !it.skipTo(end) {
			break
		}
	}
	if it.err != nil {
		return RefundSnapshot{}, fmt.Errorf("refund body: %w", it.err)
	}
	if s.RefundID == "" && s.ID != "" {
		s.RefundID = "TQ" + s.ID
	}
	if s.RefundID == "" {
		return RefundSnapshot{}, fmt.Errorf("refund body: neither refundId nor id is present")
	}
	if opsErr != nil {
		return RefundSnapshot{}, fmt.Errorf("refund %s: %w", s.RefundID, opsErr)
	}
	if s.Operations == nil {
		s.Operations = []Operation{}
	}
	return s, nil
}

// decodeOperationsAt decodes refundOperationList at b[i] (null: none) and
// returns the index just past it. end < 0 means the JSON is invalid (err says
// where); end >= 0 with err != nil means an operation is unusable.
func decodeOperationsAt(b []byte, i, depth int) (ops []Operation, end int, err error) {
	if i < len(b) && b[i] == 'n' {
		if end, err = literalEnd(b, i, "null"); err != nil {
			return nil, -1, err
		}
		return nil, end, nil
	}
	if i >= len(b) || b[i] != '[' {
		if end, err = valueEnd(b, i, depth); err != nil {
			return nil, -1, err
		}
		return nil, end, fmt.Errorf("refundOperationList is not an array")
	}
	if depth+1 >= maxDepth {
		return nil, -1, syntaxErr(b, i, "nesting too deep")
	}
	j := skipSpace(b, i+1)
	if j < len(b) && b[j] == ']' {
		return []Operation{}, j + 1, nil
	}
	// Decoded into scratch on the stack, then copied at its length: the
	// list is kept as long as its refund's record, and its length is not
	// known before the end.
	var scratch [16]Operation
	list := scratch[:0]
	var opErr error
	for {
		if j < len(b) && b[j] == '{' && opErr == nil {
			it := openObject(b, j, depth+1)
			op, err := decodeOperationObject(&it)
			switch {
			case it.err != nil:
				return nil, -1, it.err
			case err != nil:
				opErr = fmt.Errorf("operation %d: %w", len(list), err)
				if !it.done { // stopped early: validate the rest of it
					if j, err = valueEnd(b, j, depth+1); err != nil {
						return nil, -1, err
					}
				} else {
					j = it.end
				}
			default:
				list = append(list, op)
				j = it.end
			}
		} else {
			k, err := valueEnd(b, j, depth+1)
			if err != nil {
				return nil, -1, err
			}
			if opErr == nil {
				opErr = fmt.Errorf("operation %d: not an object", len(list))
			}
			j = k
		}
		j = skipSpace(b, j)
		switch {
		case j < len(b) && b[j] == ',':
			j = skipSpace(b, j+1)
		case j < len(b) && b[j] == ']':
			return append(make([]Operation, 0, len(list)), list...), j + 1, opErr
		default:
			return nil, -1, syntaxErr(b, j, "expected ',' or ']'")
		}
	}
}

// decodeOperationObject decodes the operation object it walks.
func decodeOperationObject(it *objectIter) (Operation, error) {
	var o Operation
	for {
		key, val, ok := it.next()
		if !ok {
			break
		}
		var err error
		switch string(key) {
		case "id":
			o.ID, err = idValue(val)
		case "gmtCreate":
			o.At, err = timeValue(val)
		case "operateTypeInt":
			o.Type, err = intValue(val)
		case "operateRemark":
			o.Remark, err = textValue(val)
		case "discription", "description":
			if o.Description == "" {
				o.Description, err = textValue(val)
			}
		case "operatorRoleId":
			o.Role, err = intValue(val)
		case "msgType":
			o.MsgType, err = intValue(val)
		case "beforeOperateStatus":
			o.Before, err = statusValue(val)
		case "afterOperateStatus":
			o.After, err = statusValue(val)
		}
		if err != nil {
			return Operation{}, fmt.Errorf("%s: %w", key, err)
		}
	}
	if it.err != nil {
		return Operation{}, it.err
	}
	if o.ID == "" {
		return Operation{}, fmt.Errorf("no id")
	}
	return o, nil
}

// statusValue decodes a 1688 refund status, lower case. The six documented
// statuses are returned without allocating.
func statusValue(v []byte) (string, error) {
	if len(v) > 2 && v[0] == '"' {
		switch string(v[1 : len(v)-1]) {
		case "waitselleragree":
			return "waitselleragree", nil
		case "waitbuyermodify":
			return "waitbuyermodify", nil
		case "waitbuyersend":
			return "waitbuyersend", nil
		case "waitsellerreceive":
			return "waitsellerreceive", nil
		case "refundsuccess":
			return "refundsuccess", nil
		case "refundclose":
			return "refundclose", nil
		}
	}
	s, err := textValue(v)
	return strings.ToLower(s), err
}
